/**
 * The datasets domain in the main process: importing (read in the dataset
 * process, registered in the store, its image folder opened to the UI),
 * stats, browsing and image detail answered by the dataset process, and
 * Shapes generation as `synthesis` tasks that the dataset process renders.
 * The main process never parses an annotation file: a 66 MB COCO file reads
 * in the dataset process while the UI stays responsive.
 */
import { stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import type {
  BrowsePage,
  CreateShapesResult,
  DatasetImported,
  DatasetStats,
  DatasetSummary,
  GroundedScore,
  ImageDetail,
  SynthResult,
} from '../../shared/datasetsTypes';
import type { MethodName, ParsedRequestOf } from '../../shared/contract';
import { ApiError } from '../../shared/errors';
import type { DatasetRecord } from '../../shared/storeTypes';
import type { Logger } from '../core/logger';
import type { MediaRoots } from '../core/mediaRoots';
import type { DatasetSource } from '../engine/handlers/datasetFiles';
import type { DatasetProcessHandlers } from '../engine/handlers/datasetProcess';
import type { EngineProgress } from '../engine/protocol';
import type { EngineSupervisor } from '../engine/supervisor';
import { withBadImages, type ImageToVerify, type VerifyImagesResult } from '../lib/data/readers/verifyImages';
import { MAX_STORED_UNREADABLE, scenesFileFor } from '../lib/data/facts';
import { loadScenes, sceneIndex, scoreGrounded } from '../lib/data/shapes/grounded';
import { SHAPES_SCENES_FILE } from '../lib/data/shapes/synth';
import type { ExperimentStore } from '../store';
import type { TaskRuntime } from '../tasks/runtime';
import type { TaskHandler } from '../tasks/types';
import { asJson, isDatasetFormat, readStoredStats, toSummary } from './summary';

type Req<M extends MethodName & `datasets.${string}`> = ParsedRequestOf<M>;

/** How the dataset process finds a registered dataset; the key changes when it is re-imported. */
function sourceOf(record: DatasetRecord): DatasetSource {
  const stored = readStoredStats(record);
  return {
    key: `dataset:${record.id}@${record.updatedAt}`,
    path: record.path,
    ...(isDatasetFormat(record.format) ? { format: record.format } : {}),
    imagesDir: stored.imagesDir,
  };
}

export interface DatasetServiceDeps {
  dataDir: string;
  store: ExperimentStore;
  /** The dataset process: reads, pages and renders datasets. */
  files: EngineSupervisor<DatasetProcessHandlers>;
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

/** An import task's params: the dataset whose images it decodes. */
const importParams = z.object({ datasetId: z.number().int().positive() }).strict();
type ImportParams = z.infer<typeof importParams>;

export interface VerifySummary {
  datasetId: number;
  checked: number;
  unreadable: number;
}

export class DatasetService {
  constructor(private readonly services: DatasetServiceDeps) {}

  /** Shapes generation as a task: the dataset process renders, then the dataset is registered if asked. */
  synthesisTask(): TaskHandler<SynthesisParams, SynthResult> {
    return {
      kind: 'synthesis',
      parse: (params) => synthesisParams.parse(params),
      run: async ({ params, signal, progress }) => {
        const { register, registerAs, ...options } = params;
        const result = await this.services.files.call('data.synth', options, {
          signal,
          onProgress: (p) => progress({ stage: p.stage, done: p.done, total: p.total, unit: 'images', ...(p.message ? { message: p.message } : {}) }),
        });
        // A stop that arrived as the last image was written still means "do not register it".
        if (signal.aborted) throw new ApiError('cancelled', `Stopped; ${options.out} is not registered.`);
        const imported = register || registerAs ? await this.import({ path: options.out, verify: false, ...(registerAs ? { name: registerAs } : {}) }) : null;
        const dataset = imported ? toSummary((await this.record(imported.id))) : null;
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

  /**
   * The thorough half of an import, as a task: every image decoded at
   * thumbnail size in the dataset process; each unreadable one is kept with
   * its reason in the dataset's problems. Safe to run again after a crash.
   */
  importTask(): TaskHandler<ImportParams, VerifySummary> {
    return {
      kind: 'import',
      parse: (params) => importParams.parse(params),
      run: async ({ params, signal, progress }) => {
        const { store, files, logger } = this.services;
        const record = await this.record(params.datasetId);
        const result = await files.call(
          'dataset.verify',
          { source: sourceOf(record) },
          { signal, onProgress: (p) => progress({ stage: p.stage, done: p.done, total: p.total, unit: 'images', ...(p.message ? { message: p.message } : {}) }) },
        );
        // Missing files were already counted when the dataset was read.
        const unreadable = result.bad.filter((bad) => bad.kind === 'unreadable-image');
        const stored = readStoredStats(await this.record(params.datasetId));
        const before = stored.verified?.unreadable ?? 0;
        await store.datasets.updateStats(params.datasetId, asJson({
          ...stored,
          problems: stored.problems - before + unreadable.length,
          verified: { checked: result.checked, unreadable: unreadable.length, at: new Date().toISOString() },
          unreadable: unreadable.slice(0, MAX_STORED_UNREADABLE),
        }));
        if (unreadable.length > 0) logger.warn(`Dataset "${record.name}": ${unreadable.length} of ${result.checked} images do not decode (see its problems).`);
        return { datasetId: params.datasetId, checked: result.checked, unreadable: unreadable.length };
      },
      // Decoding again from the start is safe and the answer is the same.
      onCrash: 'resume',
    };
  }

  async import(request: Req<'datasets.import'>): Promise<DatasetImported> {
    const path = resolve(request.path);
    const imagesDir = request.imagesDir ? resolve(request.imagesDir) : null;
    // A one-off key: an import always reads the files as they are now.
    const opened = await this.services.files.call('dataset.open', {
      source: { key: `import:${path}:${Date.now()}`, path, ...(request.format ? { format: request.format } : {}), imagesDir },
    });
    const record = await this.services.store.datasets.register({
      name: request.name ?? opened.defaultName,
      path,
      format: opened.format,
      stats: asJson(opened.facts),
    });
    this.services.mediaRoots.add(opened.facts.imageRoot);
    this.services.logger.info(`Imported dataset "${record.name}" (${opened.format}, ${opened.facts.images} images) from ${path}.`);
    const verify = request.verify
      ? await this.services.tasks.submit({
          kind: 'import',
          title: `Verify the images of "${record.name}"`,
          params: { datasetId: record.id },
          subject: { type: 'dataset', id: record.id },
        })
      : null;
    return { ...toSummary(record), verifyTaskId: verify?.id ?? null };
  }

  async list(): Promise<DatasetSummary[]> {
    return (await this.services.store.datasets.list()).map(toSummary);
  }

  async remove(datasetId: number): Promise<{ removed: boolean }> {
    await this.services.store.datasets.delete(datasetId);
    return { removed: true };
  }

  async stats(request: Req<'datasets.stats'>): Promise<DatasetStats> {
    const options = { minCount: request.minCount, topWords: request.topWords };
    if (request.datasetId !== undefined) {
      const record = await this.record(request.datasetId);
      const stats = await this.services.files.call('dataset.stats', { source: sourceOf(record), ...options, cache: true });
      // Unreadable images found by the import's verification are problems of the dataset too.
      const { unreadable } = readStoredStats(record);
      return unreadable.length > 0 ? { ...stats, problems: withBadImages(stats.problems, unreadable) } : stats;
    }
    const path = resolve(request.path as string);
    const source: DatasetSource = { key: `path:${path}`, path, ...(request.format ? { format: request.format } : {}), imagesDir: request.imagesDir ? resolve(request.imagesDir) : null };
    return this.services.files.call('dataset.stats', { source, ...options, cache: false });
  }

  async browse(request: Req<'datasets.browse'>): Promise<BrowsePage> {
    const source = sourceOf(await this.record(request.datasetId));
    const page = await this.services.files.call('dataset.browse', {
      source,
      offset: request.offset,
      limit: request.limit,
      ...(request.search ? { search: request.search } : {}),
      ...(request.split ? { split: request.split } : {}),
    });
    return { datasetId: request.datasetId, offset: request.offset, limit: request.limit, ...page };
  }

  async image(request: Req<'datasets.image'>): Promise<ImageDetail> {
    const detail = await this.services.files.call('dataset.image', { source: sourceOf(await this.record(request.datasetId)), imageId: request.imageId });
    if (!detail) throw new ApiError('not_found', `Dataset ${request.datasetId} has no image "${request.imageId}".`);
    return detail;
  }

  /** Decodes every image at thumbnail size in the dataset process; answers the unreadable ones with their reasons. */
  verifyImages(images: ImageToVerify[], options: { signal?: AbortSignal; onProgress?: (progress: EngineProgress) => void } = {}): Promise<VerifyImagesResult> {
    return this.services.files.call('data.verifyImages', { images }, options);
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

  private async record(datasetId: number): Promise<DatasetRecord> {
    const record = await this.services.store.datasets.get(datasetId);
    if (!record) throw new ApiError('not_found', `Dataset ${datasetId} does not exist.`);
    return record;
  }
}
