/**
 * Methods of the dataset process: reading annotation files (a 66 MB COCO
 * file too), statistics, paging and image detail, all in plain Node off the
 * main process. The two most recently used datasets stay parsed here, keyed
 * by what the caller names them (`source.key`), so paging and searching do
 * not re-read files; a changed key (the dataset was re-imported) reads anew.
 */
import { stat } from 'node:fs/promises';
import sharp from 'sharp';
import type { BrowseItem, DatasetFormat, DatasetStats, ImageDetail, ShapesScene, SplitName } from '../../../shared/datasetsTypes';
import { ApiError } from '../../../shared/errors';
import { DatasetIndex, toItem } from '../../lib/data/browse';
import { defaultName, scenesFileFor, storedStats, type StoredDatasetStats } from '../../lib/data/facts';
import { readDataset } from '../../lib/data/readers';
import { DatasetFormatError } from '../../lib/data/readers/types';
import { verifyImages, type VerifyImagesProgress, type VerifyImagesResult } from '../../lib/data/readers/verifyImages';
import { loadScenes, sceneIndex } from '../../lib/data/shapes/grounded';
import { computeStats } from '../../lib/data/stats';
import { tokenizeCaption } from '../../lib/data/text/tokenize';
import type { EngineContext } from '../protocol';

/** Where a dataset is and how to read it; `key` identifies this version of it for the cache. */
export interface DatasetSource {
  key: string;
  path: string;
  format?: DatasetFormat | undefined;
  imagesDir?: string | null | undefined;
}

export interface OpenedDataset {
  format: DatasetFormat;
  defaultName: string;
  facts: StoredDatasetStats;
}

interface Loaded {
  index: DatasetIndex;
  scenes: Map<string, ShapesScene> | null;
  /** Why the scenes could not be read, when a Shapes set's scenes.json is damaged. */
  scenesProblem: string | null;
}

const KEEP_LOADED = 2;
const loaded = new Map<string, Loaded>();
const reading = new Map<string, Promise<Loaded>>();

/** Reader errors become API errors that keep the file and line in the message. */
async function read(source: DatasetSource) {
  try {
    return await readDataset(source.path, { ...(source.format ? { format: source.format } : {}), ...(source.imagesDir ? { imagesDir: source.imagesDir } : {}) });
  } catch (error) {
    if (error instanceof DatasetFormatError) throw new ApiError('invalid_request', error.message);
    throw error;
  }
}

async function load(source: DatasetSource): Promise<Loaded> {
  const cached = loaded.get(source.key);
  if (cached) {
    // Most recently used last, so the oldest is evicted first.
    loaded.delete(source.key);
    loaded.set(source.key, cached);
    return cached;
  }
  // Calls that arrive while the dataset is being read share that one read.
  let pending = reading.get(source.key);
  if (!pending) {
    pending = read(source).then(async (dataset) => {
      const entry: Loaded = { index: new DatasetIndex(dataset), scenes: null, scenesProblem: null };
      const scenesFile = scenesFileFor(dataset);
      if (scenesFile) {
        // A damaged scenes.json only loses the scene view, not the dataset.
        entry.scenes = await loadScenes(scenesFile).then(sceneIndex, (error: unknown) => {
          entry.scenesProblem = `Shapes scenes unreadable: ${(error as Error).message}`;
          return null;
        });
      }
      loaded.set(source.key, entry);
      while (loaded.size > KEEP_LOADED) loaded.delete(loaded.keys().next().value as string);
      return entry;
    });
    reading.set(source.key, pending);
    void pending.finally(() => reading.delete(source.key)).catch(() => undefined);
  }
  return pending;
}

export const datasetFileHandlers = {
  /**
   * Decodes every image of a dataset at thumbnail size (a few at a time) and
   * answers the ones that fail, with their reasons; streams counts after each
   * image, and stops between images when cancelled.
   */
  async 'dataset.verify'(params: { source: DatasetSource }, ctx: EngineContext<VerifyImagesProgress>): Promise<VerifyImagesResult> {
    const { index } = await load(params.source);
    const images = index.dataset.images.map((image) => ({ id: image.id, file: image.file }));
    return verifyImages(images, {
      signal: ctx.signal,
      onProgress: (progress) => {
        ctx.emit(progress);
        ctx.progress({ stage: 'verifying images', done: progress.done, total: progress.total, message: `${progress.bad} unreadable` });
      },
    });
  },

  /** Reads a dataset and answers what the store keeps about it; it stays loaded for paging. */
  async 'dataset.open'(params: { source: DatasetSource }, ctx: EngineContext): Promise<OpenedDataset> {
    const entry = await load(params.source);
    if (entry.scenesProblem) ctx.log('warn', entry.scenesProblem);
    const dataset = entry.index.dataset;
    return { format: dataset.format as DatasetFormat, defaultName: defaultName(params.source.path, dataset), facts: storedStats(dataset, params.source.imagesDir ?? null) };
  },

  async 'dataset.stats'(params: { source: DatasetSource; minCount: number; topWords: number; cache: boolean }): Promise<DatasetStats> {
    // A path that is not registered is read once and not kept.
    const dataset = params.cache ? (await load(params.source)).index.dataset : await read(params.source);
    return computeStats(dataset, { minCount: params.minCount, topWords: params.topWords, shapes: scenesFileFor(dataset) !== null });
  },

  async 'dataset.browse'(params: {
    source: DatasetSource;
    offset: number;
    limit: number;
    search?: string | undefined;
    split?: SplitName | 'none' | undefined;
  }): Promise<{ total: number; items: BrowseItem[] }> {
    const { index } = await load(params.source);
    return index.browse({ offset: params.offset, limit: params.limit, ...(params.search ? { search: params.search } : {}), ...(params.split ? { split: params.split } : {}) });
  },

  async 'dataset.image'(params: { source: DatasetSource; imageId: string }): Promise<Omit<ImageDetail, never> | null> {
    const { index, scenes } = await load(params.source);
    const image = index.image(params.imageId);
    if (!image) return null;
    let width: number | null = null;
    let height: number | null = null;
    let format: string | null = null;
    let bytes = 0;
    let error: string | null = null;
    try {
      bytes = (await stat(image.file)).size;
      // Header only: sharp does not decode pixels for metadata.
      const meta = await sharp(image.file).metadata();
      const rotated = (meta.orientation ?? 1) >= 5;
      width = (rotated ? meta.height : meta.width) ?? null;
      height = (rotated ? meta.width : meta.height) ?? null;
      format = meta.format ?? null;
    } catch (e) {
      error = (e as Error).message;
    }
    return {
      ...toItem(image),
      width,
      height,
      format,
      bytes,
      tokens: image.captions.map(tokenizeCaption),
      scene: scenes?.get(image.id.split('/').pop() as string) ?? null,
      error,
    };
  },
};
