/** What building a run's model may use: cancellation, the data folder (caches), logging and progress. */
import { join } from 'node:path';
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
  const has = (id: string) => store.has(id);
  const kept: TrainingData = { ...data, train: withoutImages(data.train, failedIn(data.train, has)), val: withoutImages(data.val, failedIn(data.val, has)) };
  if (store.failed.length > 0) context.log('warn', `${store.failed.length} images could not be decoded and are left out of training and validation.`);
  return { store, kept };
}
