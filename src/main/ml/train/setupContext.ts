/** What building a run's model may use: cancellation, the data folder (caches), logging and progress. */
import { join } from 'node:path';
import type { SkippedImage } from '../../../shared/trainingTypes';
import { openImageStore, type ImageStore } from '../features/imageStore';
import { withoutImages, type TrainingData } from './data';
import { failedIn, runImageSet } from './featureSource';

export interface SetupContext {
  signal?: AbortSignal;
  dataDir: string;
  log(level: 'info' | 'warn', message: string): void;
  progress(stage: string, done: number, total: number | null): void;
}

/** The run's images from the pixel cache (decoded once per dataset and size), less those that failed. */
export async function openPixels(data: TrainingData, size: number, context: SetupContext): Promise<{ store: ImageStore; kept: TrainingData }> {
  const { store } = await openImageStore({
    cacheRoot: join(context.dataDir, 'cache'),
    imageSet: runImageSet(data),
    size,
    ...(context.signal ? { signal: context.signal } : {}),
    onProgress: (p) => context.progress(`decoding images (${p.stage})`, p.done, p.total),
  });
  return { store, kept: withoutFailed(data, store) };
}

/**
 * The run's data less the images a cache could not decode, with those
 * images named (and why) so the run can store and show them.
 */
export function withoutFailed(data: TrainingData, cache: { has(id: string): boolean; failed: ReadonlyArray<{ id: string; reason: string; message: string }> }): TrainingData {
  const has = (id: string) => cache.has(id);
  const reasons = new Map(cache.failed.map((row) => [row.id, row.message || row.reason]));
  const skipped = new Map<string, SkippedImage>();
  for (const image of [...data.train.images, ...data.val.images]) {
    if (!has(image.id) && !skipped.has(image.id)) skipped.set(image.id, { id: image.id, file: image.file, reason: reasons.get(image.id) ?? 'not decoded' });
  }
  return {
    ...data,
    train: withoutImages(data.train, failedIn(data.train, has)),
    val: withoutImages(data.val, failedIn(data.val, has)),
    skippedImages: [...data.skippedImages, ...skipped.values()],
  };
}
