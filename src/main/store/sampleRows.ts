/** Sample captions as both stores keep them: the row, the checks of a batch of samples, the statement and the record. */
import type { SampleCaption } from '../../shared/storeTypes';
import { isoTime } from './clock';
import { parseStringArray } from './json';
import type { SampleInput } from './storage';
import { requireCount, requireText } from './validate';

export interface SampleRow {
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

/** One caption per run, epoch and image: writing an epoch's samples again replaces them. */
export const UPSERT_SAMPLE = `INSERT INTO sample_captions (run_id, epoch, step, image_id, image_path, caption, reference_captions, created_at)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?)
  ON CONFLICT (run_id, epoch, image_id) DO UPDATE SET step = excluded.step, image_path = excluded.image_path,
    caption = excluded.caption, reference_captions = excluded.reference_captions, created_at = excluded.created_at`;

export const SELECT_RUN_SAMPLES = 'SELECT * FROM sample_captions WHERE run_id = ? ORDER BY epoch, id LIMIT ?';
export const SELECT_EPOCH_SAMPLES = 'SELECT * FROM sample_captions WHERE run_id = ? AND epoch = ? ORDER BY id LIMIT ?';
export const SELECT_SAMPLE_EPOCHS = 'SELECT DISTINCT epoch FROM sample_captions WHERE run_id = ? ORDER BY epoch';

/** Checks every sample before any is written, naming the bad field. */
export function requireSamples(epoch: number, step: number, samples: SampleInput[]): void {
  requireCount(epoch, 'epoch');
  requireCount(step, 'step');
  samples.forEach((sample, index) => {
    requireText(sample.imageId, `samples[${index}].imageId`, 1000);
    if (typeof sample.caption !== 'string') requireText(sample.caption, `samples[${index}].caption`);
  });
}

/** UPSERT_SAMPLE's values for one sample. */
export function sampleValues(runId: number, epoch: number, step: number, sample: SampleInput, now: number): unknown[] {
  return [runId, epoch, step, sample.imageId, sample.imagePath ?? null, sample.caption, JSON.stringify(sample.references ?? []), now];
}

export function sampleCaption(row: SampleRow): SampleCaption {
  return {
    id: row.id,
    runId: row.run_id,
    epoch: row.epoch,
    step: row.step,
    imageId: row.image_id,
    imagePath: row.image_path,
    caption: row.caption,
    references: parseStringArray(row.reference_captions),
    createdAt: isoTime(row.created_at),
  };
}
