/** Sample captions in SQLite: what the model wrote for fixed images at the end of each epoch (statements in sampleRows.ts). */
import type { SampleCaption } from '../../shared/storeTypes';
import type { SqliteContext } from './context';
import { requireSamples, sampleCaption, sampleValues, SELECT_EPOCH_SAMPLES, SELECT_RUN_SAMPLES, SELECT_SAMPLE_EPOCHS, UPSERT_SAMPLE, type SampleRow } from './sampleRows';
import type { SampleInput, SampleStore } from './storage';
import { notFound, requireId, requireIntegerIn } from './validate';

export class SqliteSampleStore implements SampleStore {
  constructor(private readonly context: SqliteContext) {}

  private requireRun(runId: number): void {
    requireId(runId, 'runId');
    if (!this.context.db.prepare('SELECT 1 FROM runs WHERE id = ?').get(runId)) notFound('Run', runId);
  }

  async add(runId: number, epoch: number, step: number, samples: SampleInput[]): Promise<void> {
    requireSamples(epoch, step, samples);
    const { db } = this.context;
    const insert = db.prepare(UPSERT_SAMPLE);
    const now = this.context.clock();
    db.transaction(() => {
      this.requireRun(runId);
      for (const sample of samples) insert.run(...sampleValues(runId, epoch, step, sample, now));
    })();
  }

  async list(runId: number, options: { epoch?: number; limit?: number } = {}): Promise<SampleCaption[]> {
    this.requireRun(runId);
    const limit = options.limit === undefined ? -1 : requireIntegerIn(options.limit, 'limit', 1, 1_000_000);
    const rows = (
      options.epoch === undefined
        ? this.context.db.prepare(SELECT_RUN_SAMPLES).all(runId, limit)
        : this.context.db.prepare(SELECT_EPOCH_SAMPLES).all(runId, options.epoch, limit)
    ) as SampleRow[];
    return rows.map(sampleCaption);
  }

  async epochs(runId: number): Promise<number[]> {
    this.requireRun(runId);
    return this.context.db.prepare(SELECT_SAMPLE_EPOCHS).pluck().all(runId) as number[];
  }
}
