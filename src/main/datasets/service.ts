/**
 * The datasets domain in the main process: importing (read, register in the
 * store, open the image folder to the UI), stats, browsing and image detail
 * over datasets read with the plain-Node readers, and Shapes generation as
 * `synthesis` tasks that the engine renders. The two most recently used datasets stay parsed in memory so
 * paging and searching do not re-read annotation files.
 */
import { stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import sharp from 'sharp';
import type {
  BrowsePage,
  CreateShapesResult,
  DatasetStats,
  DatasetSummary,
  GroundedScore,
  ImageDetail,
  ShapesScene,
  SynthResult,
} from '../../shared/datasetsTypes';
import type { MethodName, ParsedRequestOf } from '../../shared/contract';
import { ApiError } from '../../shared/errors';
import type { DatasetRecord } from '../../shared/storeTypes';
import { z } from 'zod';
import type { Logger } from '../core/logger';
import type { MediaRoots } from '../core/mediaRoots';
import type { EngineSupervisor } from '../engine/supervisor';
import type { ExperimentStore } from '../store';
import type { TaskRuntime } from '../tasks/runtime';
import type { TaskHandler } from '../tasks/types';
import { DatasetIndex, toItem } from '../lib/data/browse';
import { readDataset, type DatasetFormat } from '../lib/data/readers';
import { DatasetFormatError } from '../lib/data/readers/types';
import { loadScenes, sceneIndex, scoreGrounded } from '../lib/data/shapes/grounded';
import { SHAPES_SCENES_FILE } from '../lib/data/shapes/synth';
import { computeStats } from '../lib/data/stats';
import { tokenizeCaption } from '../lib/data/text/tokenize';
import { asJson, defaultName, isDatasetFormat, readStoredStats, scenesFileFor, storedStats, toSummary } from './summary';

type Req<M extends MethodName & `datasets.${string}`> = ParsedRequestOf<M>;

interface Loaded {
  updatedAt: string;
  index: DatasetIndex;
  scenes: Map<string, ShapesScene> | null;
}

const KEEP_LOADED = 2;

/** Reader errors become API errors that keep the file and line in the message. */
async function read(path: string, format?: DatasetFormat, imagesDir?: string | null) {
  try {
    return await readDataset(path, { ...(format ? { format } : {}), ...(imagesDir ? { imagesDir } : {}) });
  } catch (error) {
    if (error instanceof DatasetFormatError) throw new ApiError('invalid_request', error.message);
    throw error;
  }
}

export interface DatasetServiceDeps {
  dataDir: string;
  store: ExperimentStore;
  engine: EngineSupervisor;
  tasks: TaskRuntime;
  mediaRoots: MediaRoots;
  logger: Logger;
}

/** A synthesis task's params: the Shapes options, where to write, and whether (and as what) to register the result. */
const synthesisParams = z
  .object({
    out: z.string().min(1),
    images: z.number().int().positive(),
    seed: z.number().int().min(0),
    imageSize: z.number().int().positive(),
    format: z.enum(['png', 'jpeg']),
    maxObjects: z.number().int().positive(),
    textures: z.boolean(),
    register: z.boolean(),
    registerAs: z.string().nullable(),
  })
  .strict();
type SynthesisParams = z.infer<typeof synthesisParams>;

export class DatasetService {
  private readonly loaded = new Map<number, Loaded>();
  private readonly reading = new Map<string, Promise<Loaded>>();

  constructor(private readonly services: DatasetServiceDeps) {}

  /** Shapes generation as a task: the engine renders, then the dataset is registered if asked. */
  synthesisTask(): TaskHandler<SynthesisParams, SynthResult> {
    return {
      kind: 'synthesis',
      parse: (params) => synthesisParams.parse(params),
      run: async ({ params, signal, progress }) => {
        const { register, registerAs, ...options } = params;
        const result = await this.services.engine.call('data.synth', options, {
          signal,
          onProgress: (p) => progress({ stage: p.stage, done: p.done, total: p.total, unit: 'images', ...(p.message ? { message: p.message } : {}) }),
        });
        // A stop that arrived as the last image was written still means "do not register it".
        if (signal.aborted) throw new ApiError('cancelled', `Stopped; ${options.out} is not registered.`);
        const dataset = register || registerAs ? await this.import({ path: options.out, ...(registerAs ? { name: registerAs } : {}) }) : null;
        return { ...result, dataset };
      },
      // Rendering is quick to redo and a half-written folder is not a dataset.
      onCrash: 'none',
    };
  }

  /** Re-opens the image folders of registered datasets to the UI (media roots live in memory only). */
  async restoreMediaRoots(): Promise<void> {
    for (const record of await this.services.store.datasets.list()) {
      this.services.mediaRoots.add(readStoredStats(record).imageRoot);
    }
  }

  async import(request: Req<'datasets.import'>): Promise<DatasetSummary> {
    const path = resolve(request.path);
    const imagesDir = request.imagesDir ? resolve(request.imagesDir) : null;
    const dataset = await read(path, request.format, imagesDir);
    const record = await this.services.store.datasets.register({
      name: request.name ?? defaultName(path, dataset),
      path,
      format: dataset.format,
      stats: asJson(storedStats(dataset, imagesDir)),
    });
    this.services.mediaRoots.add(dataset.imageRoot);
    await this.remember(record, new DatasetIndex(dataset));
    this.services.logger.info(`Imported dataset "${record.name}" (${dataset.format}, ${dataset.images.length} images) from ${path}.`);
    return toSummary(record);
  }

  async list(): Promise<DatasetSummary[]> {
    return (await this.services.store.datasets.list()).map(toSummary);
  }

  async remove(datasetId: number): Promise<{ removed: boolean }> {
    await this.services.store.datasets.delete(datasetId);
    this.loaded.delete(datasetId);
    return { removed: true };
  }

  async stats(request: Req<'datasets.stats'>): Promise<DatasetStats> {
    const options = { minCount: request.minCount, topWords: request.topWords };
    if (request.datasetId !== undefined) {
      const { index, scenes } = await this.load(request.datasetId);
      return computeStats(index.dataset, { ...options, shapes: scenes !== null });
    }
    const dataset = await read(resolve(request.path as string), request.format, request.imagesDir ? resolve(request.imagesDir) : null);
    return computeStats(dataset, { ...options, shapes: scenesFileFor(dataset) !== null });
  }

  async browse(request: Req<'datasets.browse'>): Promise<BrowsePage> {
    const { index } = await this.load(request.datasetId);
    const page = await index.browse(request);
    return { datasetId: request.datasetId, offset: request.offset, limit: request.limit, ...page };
  }

  async image(request: Req<'datasets.image'>): Promise<ImageDetail> {
    const { index, scenes } = await this.load(request.datasetId);
    const image = index.image(request.imageId);
    if (!image) throw new ApiError('not_found', `Dataset ${request.datasetId} has no image "${request.imageId}".`);
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
  }

  /** Queues the generation of a Shapes dataset; follow the task for progress and its SynthResult. */
  async synth(request: Req<'datasets.synth'>, registerAs: string | null = null): Promise<{ taskId: number }> {
    const out = resolve(request.out);
    const task = await this.services.tasks.submit({
      kind: 'synthesis',
      title: `Shapes: ${request.images} images → ${out}`,
      params: { ...request, out, registerAs },
    });
    return { taskId: task.id };
  }

  /** The Shapes benchmark in `<dataDir>/datasets/shapes-s<seed>-n<images>`, generated once and registered. */
  async createShapes(request: Req<'datasets.createShapes'>): Promise<CreateShapesResult> {
    const path = join(this.services.dataDir, 'datasets', `shapes-s${request.seed}-n${request.images}`);
    const existing = await this.services.store.datasets.getByPath(path);
    if (existing && scenesFileFor({ source: path })) return { taskId: null, path, dataset: toSummary(existing) };
    const { taskId } = await this.synth(
      { out: path, images: request.images, seed: request.seed, imageSize: 128, format: 'png', maxObjects: 3, textures: true, register: true },
      'Shapes',
    );
    return { taskId, path, dataset: null };
  }

  async groundedScore(request: Req<'datasets.groundedScore'>): Promise<GroundedScore> {
    const path = resolve(request.scenes);
    const file = (await stat(path).catch(() => null))?.isDirectory() ? join(path, SHAPES_SCENES_FILE) : path;
    const scenes = await loadScenes(file).catch((error: unknown) => {
      throw new ApiError('invalid_request', (error as Error).message);
    });
    return scoreGrounded(sceneIndex(scenes), Object.entries(request.captions));
  }

  private async load(datasetId: number): Promise<Loaded> {
    const record = await this.services.store.datasets.get(datasetId);
    if (!record) throw new ApiError('not_found', `Dataset ${datasetId} does not exist.`);
    const cached = this.loaded.get(datasetId);
    if (cached && cached.updatedAt === record.updatedAt) {
      // Most recently used last, so the oldest is evicted first.
      this.loaded.delete(datasetId);
      this.loaded.set(datasetId, cached);
      return cached;
    }
    // Calls that arrive while the dataset is being read share that one read.
    const key = `${datasetId}@${record.updatedAt}`;
    let pending = this.reading.get(key);
    if (!pending) {
      const stored = readStoredStats(record);
      pending = read(record.path, isDatasetFormat(record.format) ? record.format : undefined, stored.imagesDir).then((dataset) =>
        this.remember(record, new DatasetIndex(dataset)),
      );
      this.reading.set(key, pending);
      void pending.finally(() => this.reading.delete(key)).catch(() => undefined);
    }
    return pending;
  }

  private async remember(record: DatasetRecord, index: DatasetIndex): Promise<Loaded> {
    const scenesFile = scenesFileFor(index.dataset);
    const entry: Loaded = { updatedAt: record.updatedAt, index, scenes: null };
    if (scenesFile) {
      // A damaged scenes.json only loses the scene view, not the dataset.
      entry.scenes = await loadScenes(scenesFile).then(sceneIndex, (error: unknown) => {
        this.services.logger.warn(`Shapes scenes unreadable: ${(error as Error).message}`);
        return null;
      });
    }
    this.loaded.delete(record.id);
    this.loaded.set(record.id, entry);
    while (this.loaded.size > KEEP_LOADED) this.loaded.delete(this.loaded.keys().next().value as number);
    return entry;
  }
}
