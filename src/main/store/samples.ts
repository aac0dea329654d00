/** Sample captions in SQLite: what the model wrote for fixed images at the end of each epoch. */
import type { SampleCaption } from '../../shared/storeTypes';
import { isoTime } from './clock';
import type { SqliteContext } from './context';
import { parseStringArray } from './json';
import type { SampleInput, SampleStore } from './storage';
import { notFound, requireCount, requireId, requireIntegerIn, requireText } from './validate';

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

export class SqliteSampleStore implements SampleStore {
  constructor(private readonly context: SqliteContext) {}

  private requireRun(runId: number): void {
    requireId(runId, 'runId');
    if (!this.context.db.prepare('SELECT 1 FROM runs WHERE id = ?').get(runId)) notFound('Run', runId);
  }

  async add(runId: number, epoch: number, step: number, samples: SampleInput[]): Promise<void> {
    requireCount(epoch, 'epoch');
    requireCount(step, 'step');
    samples.forEach((sample, index) => {
      requireText(sample.imageId, `samples[${index}].imageId`, 1000);
      if (typeof sample.caption !== 'string') requireText(sample.caption, `samples[${index}].caption`);
    });
    const { db } = this.context;
    const insert = db.prepare(
      `INSERT INTO sample_captions (run_id, epoch, step, image_id, image_path, caption, reference_captions, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (run_id, epoch, image_id) DO UPDATE SET step = excluded.step, image_path = excluded.image_path,
         caption = excluded.caption, reference_captions = excluded.reference_captions, created_at = excluded.created_at`,
    );
    const now = this.context.clock();
    db.transaction(() => {
      this.requireRun(runId);
      for (const sample of samples) {
        insert.run(runId, epoch, step, sample.imageId, sample.imagePath ?? null, sample.caption, JSON.stringify(sample.references ?? []), now);
      }
    })();
  }

  async list(runId: number, options: { epoch?: number; limit?: number } = {}): Promise<SampleCaption[]> {
    this.requireRun(runId);
    const limit = options.limit === undefined ? -1 : requireIntegerIn(options.limit, 'limit', 1, 1_000_000);
    const rows = (
      options.epoch === undefined
        ? this.context.db.prepare('SELECT * FROM sample_captions WHERE run_id = ? ORDER BY epoch, id LIMIT ?').all(runId, limit)
        : this.context.db
            .prepare('SELECT * FROM sample_captions WHERE run_id = ? AND epoch = ? ORDER BY id LIMIT ?')
            .all(runId, options.epoch, limit)
    ) as SampleRow[];
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
    this.requireRun(runId);
    return this.context.db
      .prepare('SELECT DISTINCT epoch FROM sample_captions WHERE run_id = ? ORDER BY epoch')
      .pluck()
      .all(runId) as number[];
  }
}
