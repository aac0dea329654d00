/** Sample captions in PostgreSQL: what the model wrote for fixed images at the end of each epoch. */
import type { SampleCaption } from '../../../shared/storeTypes';
import { isoTime } from '../clock';
import { parseStringArray } from '../json';
import type { SampleInput, SampleStore } from '../storage';
import { requireCount, requireIntegerIn, requireText } from '../validate';
import { requireRunIn } from './checkpoints';
import type { PgContext } from './context';

interface SampleRow {
  id: number;
  run_id: number;
  epoch: number;
  step: number;
  image_id: string;
  image_path: string | null;
  caption: string;
  reference_captions: string;
  created_at: number;
}

export class PgSampleStore implements SampleStore {
  constructor(private readonly context: PgContext) {}

  async add(runId: number, epoch: number, step: number, samples: SampleInput[]): Promise<void> {
    requireCount(epoch, 'epoch');
    requireCount(step, 'step');
    samples.forEach((sample, index) => {
      requireText(sample.imageId, `samples[${index}].imageId`, 1000);
      if (typeof sample.caption !== 'string') requireText(sample.caption, `samples[${index}].caption`);
    });
    const now = this.context.clock();
    await this.context.db.transaction(async (sql) => {
      await requireRunIn(sql, runId);
      for (const sample of samples) {
        await sql.run(
          `INSERT INTO sample_captions (run_id, epoch, step, image_id, image_path, caption, reference_captions, created_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT (run_id, epoch, image_id) DO UPDATE SET step = excluded.step, image_path = excluded.image_path,
             caption = excluded.caption, reference_captions = excluded.reference_captions, created_at = excluded.created_at`,
          [runId, epoch, step, sample.imageId, sample.imagePath ?? null, sample.caption, JSON.stringify(sample.references ?? []), now],
        );
      }
    });
  }

  async list(runId: number, options: { epoch?: number; limit?: number } = {}): Promise<SampleCaption[]> {
    const sql = this.context.db.sql;
    await requireRunIn(sql, runId);
    const limit = options.limit === undefined ? null : requireIntegerIn(options.limit, 'limit', 1, 1_000_000);
    const rows =
      options.epoch === undefined
        ? await sql.all<SampleRow>('SELECT * FROM sample_captions WHERE run_id = ? ORDER BY epoch, id LIMIT ?', [runId, limit])
        : await sql.all<SampleRow>('SELECT * FROM sample_captions WHERE run_id = ? AND epoch = ? ORDER BY id LIMIT ?', [runId, options.epoch, limit]);
    return rows.map((row) => ({
      id: row.id,
      runId: row.run_id,
      epoch: row.epoch,
      step: row.step,
      imageId: row.image_id,
      imagePath: row.image_path,
      caption: row.caption,
      references: parseStringArray(row.reference_captions),
      createdAt: isoTime(row.created_at),
    }));
  }

  async epochs(runId: number): Promise<number[]> {
    const sql = this.context.db.sql;
    await requireRunIn(sql, runId);
    return sql.column<number>('SELECT DISTINCT epoch FROM sample_captions WHERE run_id = ? ORDER BY epoch', [runId]);
  }
}
