/** Sample captions in PostgreSQL: what the model wrote for fixed images at the end of each epoch (statements in ../sampleRows.ts). */
import type { SampleCaption } from '../../../shared/storeTypes';
import { requireSamples, sampleCaption, sampleValues, SELECT_EPOCH_SAMPLES, SELECT_RUN_SAMPLES, SELECT_SAMPLE_EPOCHS, UPSERT_SAMPLE, type SampleRow } from '../sampleRows';
import type { SampleInput, SampleStore } from '../storage';
import { requireIntegerIn } from '../validate';
import { requireRunIn } from './checkpoints';
import type { PgContext } from './context';

export class PgSampleStore implements SampleStore {
  constructor(private readonly context: PgContext) {}

  async add(runId: number, epoch: number, step: number, samples: SampleInput[]): Promise<void> {
    requireSamples(epoch, step, samples);
    const now = this.context.clock();
    await this.context.db.transaction(async (sql) => {
      await requireRunIn(sql, runId);
      for (const sample of samples) await sql.run(UPSERT_SAMPLE, sampleValues(runId, epoch, step, sample, now));
    });
  }

  async list(runId: number, options: { epoch?: number; limit?: number } = {}): Promise<SampleCaption[]> {
    const sql = this.context.db.sql;
    await requireRunIn(sql, runId);
    const limit = options.limit === undefined ? null : requireIntegerIn(options.limit, 'limit', 1, 1_000_000);
    const rows =
      options.epoch === undefined
        ? await sql.all<SampleRow>(SELECT_RUN_SAMPLES, [runId, limit])
        : await sql.all<SampleRow>(SELECT_EPOCH_SAMPLES, [runId, options.epoch, limit]);
    return rows.map(sampleCaption);
  }

  async epochs(runId: number): Promise<number[]> {
    const sql = this.context.db.sql;
    await requireRunIn(sql, runId);
    return sql.column<number>(SELECT_SAMPLE_EPOCHS, [runId]);
  }
}
