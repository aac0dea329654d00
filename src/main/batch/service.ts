/**
 * Batch captioning jobs from the main process: create a job from a folder,
 * a model and outputs; run it (the engine captions, this side stores each
 * batch as it arrives and writes caption files); review (items sorted by
 * confidence, edits, re-captioning a selection); write the outputs; list,
 * show, stop, resume and delete jobs.
 *
 * A job is a `batch` task on the task runtime; `run` is its body. It always
 * starts from what the store says is done, so a stop, a crash or a restart
 * resumes with exactly the images still missing.
 */
import { existsSync, statSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import type {
  BatchCounts,
  BatchInput,
  BatchItem,
  BatchItemsPage,
  BatchJobOptions,
  BatchJobResult,
  BatchJobState,
  BatchJobSummary,
  BatchModelChoice,
  BatchOutputPaths,
  BatchPreview,
  BatchProgress,
  SidecarOptions,
} from '../../shared/batchTypes';
import { consensusLabel } from '../../shared/consensusLabel';
import { ApiError } from '../../shared/errors';
import { isFinalTaskState } from '../../shared/taskTypes';
import type { DecodingSettings } from '../../shared/inferenceTypes';
import type { JsonObject } from '../../shared/storeTypes';
import type { TaskPlacement } from '../../shared/taskTypes';
import type { EventBus } from '../core/eventBus';
import type { Logger } from '../core/logger';
import type { MediaRoots } from '../core/mediaRoots';
import type { EngineSupervisor } from '../engine/supervisor';
import { globToRegExp } from '../lib/batch/glob';
import { writeOutputFile, finalCaption, type OutputFormat } from '../lib/batch/outputs';
import { normalizeSidecarExt, sidecarPath, writeSidecar } from '../lib/batch/sidecar';
import type { CaptionJobReport } from '../ml/batch/captionJob';
import { relativeImagePath } from '../lib/batch/listFolder';
import type { ExperimentStore } from '../store';
import type { BatchItemQuery } from '../store/batchReview';
import type { BatchShardRecord } from '../store/storage';
import type { TaskRuntime } from '../tasks/runtime';
import { StoppedEarly, type ProgressUpdate } from '../tasks/types';
import { resolveBatchModel } from './modelChoice';
import { planShards } from './planner';

export interface BatchServiceDeps {
  dataDir: string;
  store: ExperimentStore;
  engine: EngineSupervisor;
  bus: EventBus;
  logger: Logger;
  tasks: TaskRuntime;
  mediaRoots: MediaRoots;
}

/** What a running job gets from whoever runs it (the task runtime's TaskContext has this shape). */
export interface BatchRunContext {
  signal: AbortSignal;
  progress(update: ProgressUpdate): void;
}

const SIDECAR_PAGE = 500;
/** How often a job reports its progress from the store while shards run (here or elsewhere). */
const PROGRESS_MS = 1_000;
/** How often a job looks at shards that other processes run. */
const WAIT_MS = 500;
/** How long a stopped job waits for its shards elsewhere to save and end. */
const STOP_WAIT_MS = 120_000;
/** A shard seen crashed more often than this in one run of its job fails the job. */
const MAX_SHARD_CRASHES = 3;

/** What a shard's task records when it ends. */
export interface BatchShardResult {
  jobId: number;
  shard: number;
  images: number;
  /** Its images with a result now (from earlier attempts too). */
  reported: number;
  captionedNow: number;
}

/**
 * A job's progress as the store has it (every shard's results, wherever they
 * were made): a report when the count moved, with the rate since this run
 * of the job started.
 */
class JobProgress {
  private last = -1;
  private busy: Promise<void> | null = null;
  readonly captionedBefore: number;
  private readonly doneBefore: number;

  constructor(
    private readonly jobId: number,
    before: BatchCounts,
    private readonly started: number,
    private readonly read: () => Promise<BatchCounts>,
    private readonly emit: (progress: BatchProgress) => void,
  ) {
    this.captionedBefore = before.captioned;
    this.doneBefore = before.captioned + before.skippedExisting + before.failed;
  }

  /** One report at a time; `force` reports even when nothing moved (the last one). */
  async report(force = false): Promise<void> {
    while (this.busy) await this.busy;
    this.busy = this.measure(force).finally(() => (this.busy = null));
    await this.busy;
  }

  private async measure(force: boolean): Promise<void> {
    const counts = await this.read();
    const done = counts.captioned + counts.skippedExisting + counts.failed;
    if (done === this.last && !force) return;
    this.last = done;
    const seconds = (performance.now() - this.started) / 1000;
    const rate = seconds > 0 && done > this.doneBefore ? (done - this.doneBefore) / seconds : null;
    const total = counts.total;
    this.emit({
      jobId: this.jobId,
      done,
      total,
      imagesPerSecond: rate,
      etaSeconds: rate && total !== null ? Math.max(0, total - done) / rate : null,
      counts,
    });
  }
}

/** The decoding in a few words, as outputs record it, with the consensus it used (a job decoded with it captions differently). */
export function decodingLabel(settings: DecodingSettings): string {
  const limits = `length ${settings.minLength}-${settings.maxLength}${settings.noRepeatNgramSize ? `, no repeated ${settings.noRepeatNgramSize}-grams` : ''}${consensusLabel(settings)}`;
  switch (settings.strategy) {
    case 'greedy':
      return `greedy, ${limits}`;
    case 'beam':
      return `beam ${settings.beamWidth}, length penalty ${settings.lengthPenalty}, ${limits}`;
    case 'sample':
      return `sample (temperature ${settings.temperature}, top-k ${settings.topK}, top-p ${settings.topP}, seed ${settings.seed}), ${limits}`;
  }
}

export class BatchService {
  constructor(private readonly deps: BatchServiceDeps) {}

  // ─── creating and running ──────────────────────────────────────────────────

  async create(options: BatchJobOptions, queue: { placement?: TaskPlacement } = {}): Promise<BatchJobSummary> {
    const checked = checkOptions(options);
    const model = await resolveBatchModel(this.deps, checked.model);
    const { store } = this.deps;
    const job = await store.batchJobs.create({
      inputPath: checked.input.folder,
      modelPath: model.path,
      runId: model.runId,
      decoding: checked.decoding as JsonObject,
      total: 0,
      placement: queue.placement ?? 'any',
    });
    await store.batchReview.setup(job.id, checked, model.label);
    this.deps.mediaRoots.add(checked.input.folder);
    // The job's task is queued with it; this process runs it (a one-shot command runs only what it adopts).
    if (job.taskId !== null) this.deps.tasks.adopt(job.taskId, queue.placement);
    const summary = await this.summary(job.id);
    this.deps.bus.emit('batch.updated', summary);
    return summary;
  }

  /**
   * Resumes a stopped, failed or crashed job (its task is queued again and
   * continues with the images still missing); a job whose task a crash
   * already queued again is simply taken up. Answers the task to follow.
   */
  async resume(jobId: number, queue: { placement?: TaskPlacement } = {}): Promise<{ jobId: number; taskId: number }> {
    const job = await this.requireJob(jobId);
    // A process that died while running it leaves the task running until someone recovers it: do it now.
    await this.deps.tasks.recover();
    const task = job.taskId === null ? null : await this.deps.store.tasks.get(job.taskId);
    if (!task) throw new ApiError('conflict', `Batch job ${jobId} has no task to resume (it was deleted).`);
    if (task.state === 'completed') throw new ApiError('conflict', `Batch job ${jobId} is complete; nothing is left to caption.`);
    if (task.state === 'running' || task.state === 'stopping') throw new ApiError('conflict', `Batch job ${jobId} is running (task ${task.id}).`);
    if (task.state === 'queued' && queue.placement !== undefined) await this.deps.tasks.place(task.id, queue.placement);
    else if (task.state === 'queued') this.deps.tasks.adopt(task.id, task.placement);
    else await this.deps.tasks.resume(task.id, queue);
    return { jobId, taskId: task.id };
  }

  /** Asks a running job (and each of its shards, wherever they run) to stop after the current batch; it stays resumable. */
  async stop(jobId: number): Promise<boolean> {
    const job = await this.requireJob(jobId);
    const stopped = job.taskId === null ? false : await this.deps.tasks.stop(job.taskId);
    await this.stopShards(jobId, false);
    return stopped;
  }

  /**
   * The job's body, wherever its task runs: plan the listing into shards (each
   * a queued task any process sharing the store may claim), run the job's
   * queued shards here one after the other while other processes take
   * others, wait for theirs, and once every shard completed write the CSV,
   * JSONL and COCO files from the store, once, in listing order. Only this
   * task writes them, and a task is claimed by one process at a time.
   */
  async run(jobId: number, context: BatchRunContext): Promise<BatchJobResult> {
    const { store } = this.deps;
    const started = performance.now();
    const settings = await this.settingsOf(jobId);
    const options = settings.options;
    // A model that cannot be found fails the job before any shard is planned.
    await resolveBatchModel(this.deps, options.model);
    const job = await this.requireJob(jobId);
    const first = await this.counts(jobId, settings.total);
    const progress = new JobProgress(jobId, first, started, async () => {
      const total = (await store.batchReview.settings(jobId)).total;
      return this.counts(jobId, total);
    }, (update) => {
      this.deps.bus.emit('batch.progress', update);
      context.progress({ stage: 'captioning', done: update.done, total: update.total, unit: 'images', ...(update.imagesPerSecond ? { message: `${update.imagesPerSecond.toFixed(1)} images/s` } : {}) });
    });
    const ticker = setInterval(() => void progress.report().catch(() => undefined), PROGRESS_MS);
    ticker.unref();
    const crashesSeen = new Map<number, number>();
    try {
      // A job resumed after a shard failed tries that shard again.
      for (const shard of await store.batchJobs.shards(jobId)) {
        if (shard.state === 'failed' && shard.taskId !== null) await this.requeue(shard.taskId);
      }
      let planned = await planShards(store, jobId, options, context.signal);
      for (;;) {
        if (context.signal.aborted) break;
        const shards = await store.batchJobs.shards(jobId);
        let next: BatchShardRecord | null = null;
        let running = 0;
        for (const shard of shards) {
          if (shard.state === null) throw new Error(`Shard ${shard.shard + 1} of batch job ${jobId} lost its task (it was deleted).`);
          if (shard.state === 'failed') throw new Error(`Shard ${shard.shard + 1} (images ${shard.firstOrdinal + 1}–${shard.firstOrdinal + shard.size}) failed: ${shard.error ?? 'no reason given'}`);
          if (shard.state === 'crashed') {
            // Its crash rule queues it again by itself a few times; a shard that keeps crashing (an image that kills the engine) fails the job.
            const seen = (crashesSeen.get(shard.shard) ?? 0) + 1;
            crashesSeen.set(shard.shard, seen);
            if (seen > MAX_SHARD_CRASHES) throw new Error(`Shard ${shard.shard + 1} crashed ${MAX_SHARD_CRASHES} times: ${shard.error ?? 'no reason given'}`);
          }
          // Stopped with the job (or handed back by a worker that shut down): it continues with the job.
          if ((shard.state === 'cancelled' || shard.state === 'crashed') && shard.taskId !== null) await this.requeue(shard.taskId);
          if (shard.state === 'queued' && next === null) next = shard;
          if (shard.state === 'running' || shard.state === 'stopping') running += 1;
        }
        if (next) {
          await this.deps.tasks.runWithin(next.taskId!, context.signal);
          await progress.report();
          continue;
        }
        if (!planned) {
          planned = await planShards(store, jobId, options, context.signal);
          continue;
        }
        if (running === 0 && shards.every((shard) => shard.state === 'completed')) break;
        await sleep(WAIT_MS, context.signal);
      }
      if (context.signal.aborted) {
        const task = job.taskId === null ? null : await store.tasks.get(job.taskId);
        // Asked to stop (not this process shutting down): the job's shards stop with it.
        if (task?.state === 'stopping') await this.stopShards(jobId, true);
        await progress.report();
        const result = await this.result(jobId, 'stopped', progress, started);
        throw new StoppedEarly({ ...result } as unknown as JsonObject, `Batch job ${jobId} stopped after ${result.counts.captioned} captions; resume it to caption the rest.`);
      }
      await this.writeOutputs(jobId);
      await progress.report(true);
      return await this.result(jobId, 'completed', progress, started);
    } catch (error) {
      if (!(error instanceof StoppedEarly)) await this.stopShards(jobId, false).catch(() => undefined);
      throw error;
    } finally {
      clearInterval(ticker);
    }
  }

  /**
   * One shard's body, on whichever process claimed it: caption those of its
   * images that have no result yet, store each batch as it comes (with each
   * image's place in the listing) and write its caption files. A shard run
   * again after a crash leaves out what is stored, so no image is captioned
   * twice into the results.
   */
  async runShard(jobId: number, shard: number, context: BatchRunContext): Promise<BatchShardResult> {
    const { store, engine } = this.deps;
    const settings = await this.settingsOf(jobId);
    const options = settings.options;
    const model = await resolveBatchModel(this.deps, options.model);
    const { firstOrdinal, images } = await store.batchJobs.shardImages(jobId, shard);
    // A crash may have come between storing a batch of this shard and writing its caption files.
    await this.writePendingSidecars(jobId, options, images);
    const ordinalOf = new Map(images.map((path, index) => [path, firstOrdinal + index]));
    const known = new Set((await store.batchReview.itemsAt(jobId, images)).map((item) => item.path));
    const todo = images.filter((path) => !known.has(path)).map((path) => ({ path, relativePath: relativeImagePath(options.input.folder, path) }));
    let reported = known.size;
    let captioned = 0;
    let chain: Promise<void> = Promise.resolve();
    let failure: unknown = null;
    const handle = async (report: CaptionJobReport) => {
      const items = report.items.map((item) => ({ ...item, ordinal: ordinalOf.get(item.path) ?? null }));
      await store.batchReview.record(jobId, items, { ignored: 0, excluded: 0, sidecarPending: options.outputs.sidecar !== null });
      await this.writePendingSidecars(jobId, options, items.map((item) => item.path));
      reported += items.length;
      captioned += items.filter((item) => item.outcome === 'captioned').length;
      context.progress({ stage: `shard ${shard + 1}`, done: reported, total: images.length, unit: 'images' });
    };
    context.progress({ stage: `shard ${shard + 1}`, done: reported, total: images.length, unit: 'images' });
    if (todo.length > 0) {
      const outcome = await engine.call(
        'batch.caption',
        {
          model: model.source,
          dataDir: this.deps.dataDir,
          decoding: options.decoding,
          batchSize: options.batchSize,
          input: null,
          images: todo,
          done: [],
          skipExistingExt: options.outputs.sidecar?.existing === 'skip' ? options.outputs.sidecar.ext : null,
          limit: 0,
        },
        {
          signal: context.signal,
          onEvent: (report) => {
            chain = chain.then(() => handle(report)).catch((error: unknown) => {
              failure ??= error;
            });
          },
        },
      );
      await chain;
      if (failure) throw failure;
      await store.batchReview.setDecoding(jobId, outcome.decoding);
      const result: BatchShardResult = { jobId, shard, images: images.length, reported, captionedNow: captioned };
      if (outcome.stopped) throw new StoppedEarly({ ...result }, `Shard ${shard + 1} of batch job ${jobId} stopped after ${reported} of ${images.length} images.`);
      return result;
    }
    return { jobId, shard, images: images.length, reported, captionedNow: 0 };
  }

  /** Queues a stopped or crashed shard again; one that someone else queued or claimed meanwhile is left alone. */
  private async requeue(taskId: number): Promise<void> {
    try {
      await this.deps.store.tasks.resume(taskId);
    } catch (error) {
      if (!(error instanceof ApiError && error.code === 'conflict')) throw error;
    }
  }

  /**
   * Asks every unfinished shard of the job to stop (a queued one is cancelled
   * at once); with `wait`, until the running ones saved and ended.
   */
  private async stopShards(jobId: number, wait: boolean): Promise<void> {
    const { store } = this.deps;
    const unfinished = (await store.batchJobs.shards(jobId)).filter((shard) => shard.taskId !== null && shard.state !== null && !isFinalTaskState(shard.state));
    for (const shard of unfinished) await this.deps.tasks.stop(shard.taskId!, `batch job ${jobId} stopped`);
    if (!wait) return;
    const deadline = Date.now() + STOP_WAIT_MS;
    while (Date.now() < deadline) {
      const shards = await store.batchJobs.shards(jobId);
      if (!shards.some((shard) => shard.state === 'running' || shard.state === 'stopping')) return;
      await sleep(WAIT_MS);
    }
  }

  private async result(jobId: number, status: BatchJobState, progress: JobProgress, started: number): Promise<BatchJobResult> {
    const settings = await this.deps.store.batchReview.settings(jobId);
    const counts = await this.counts(jobId, settings.total);
    return {
      jobId,
      status,
      counts,
      outputs: settings.outputs,
      captionedNow: Math.max(0, counts.captioned - progress.captionedBefore),
      seconds: (performance.now() - started) / 1000,
    };
  }

  /**
   * The job's settings. The job row and its task are created a moment
   * before the settings row; a runtime that claims the task in between waits
   * for it rather than failing the job.
   */
  private async settingsOf(jobId: number) {
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.deps.store.batchReview.settings(jobId);
      } catch (error) {
        if (!(error instanceof ApiError && error.code === 'not_found') || attempt >= 50 || !(await this.deps.store.batchJobs.get(jobId))) throw error;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
  }

  // ─── review ────────────────────────────────────────────────────────────────

  async items(jobId: number, query: BatchItemQuery): Promise<BatchItemsPage> {
    await this.requireJob(jobId);
    // The user chose this folder for the job; its thumbnails may be served (also after a restart).
    this.deps.mediaRoots.add((await this.deps.store.batchReview.settings(jobId)).options.input.folder);
    return this.deps.store.batchReview.items(jobId, query);
  }

  /** Sets the reviewed caption of one image (null restores the model's); its caption file is rewritten on the next write. */
  async edit(jobId: number, path: string, caption: string | null): Promise<BatchItem> {
    await this.requireJob(jobId);
    const text = caption === null ? null : caption.trim();
    if (text === '') throw new ApiError('invalid_request', 'caption: a reviewed caption may not be empty (send null to restore the model\'s).');
    return this.deps.store.batchReview.edit(jobId, path, text);
  }

  /** Captions the chosen images of a job again, with other decoding settings; their reviews are cleared. */
  async recaption(jobId: number, paths: string[], decoding: Partial<DecodingSettings>): Promise<BatchItem[]> {
    const job = await this.requireJob(jobId);
    if (job.status === 'running' || job.status === 'queued') throw new ApiError('conflict', `Batch job ${jobId} is ${job.status}; re-caption after it stops.`);
    const { store } = this.deps;
    const known = await store.batchReview.itemsAt(jobId, paths);
    const missing = paths.filter((path) => !known.some((item) => item.path === path));
    if (missing.length > 0) throw new ApiError('not_found', `Not in batch job ${jobId}: ${missing.slice(0, 3).join(', ')}${missing.length > 3 ? ` and ${missing.length - 3} more` : ''}.`);
    const settings = await store.batchReview.settings(jobId);
    const model = await resolveBatchModel(this.deps, settings.options.model);
    let reports: Promise<void> = Promise.resolve();
    await this.deps.engine.call(
      'batch.caption',
      {
        model: model.source,
        dataDir: this.deps.dataDir,
        decoding: { ...settings.options.decoding, ...decoding },
        batchSize: settings.options.batchSize,
        input: null,
        images: known.map((item) => ({ path: item.path, relativePath: item.relativePath })),
        done: [],
        skipExistingExt: null,
        limit: 0,
      },
      {
        onEvent: (report) => {
          reports = reports.then(() => store.batchReview.record(jobId, report.items, { ignored: 0, excluded: 0, sidecarPending: settings.options.outputs.sidecar !== null }));
        },
      },
    );
    await reports;
    return store.batchReview.itemsAt(jobId, paths);
  }

  /**
   * Writes the job's outputs from what is stored now (reviewed captions
   * included): caption files still to be written, and the CSV, JSONL and
   * COCO files, each atomically.
   */
  async writeOutputs(jobId: number): Promise<BatchOutputPaths> {
    const { store } = this.deps;
    const settings = await store.batchReview.settings(jobId);
    const { outputs } = settings.options;
    await this.writePendingSidecars(jobId, settings.options);
    const context = { model: settings.modelLabel, decoding: settings.decoding ? decodingLabel(settings.decoding) : JSON.stringify(settings.options.decoding) };
    const written: BatchOutputPaths = { sidecars: 0, csv: null, jsonl: null, coco: null };
    for (const format of ['csv', 'jsonl', 'coco'] as const satisfies readonly OutputFormat[]) {
      const target = outputs[format];
      if (!target) continue;
      await writeOutputFile(format, target, store.batchReview.pages(jobId), context);
      written[format] = target;
    }
    written.sidecars = (await store.batchReview.counts(jobId)).sidecars;
    await store.batchReview.setOutputs(jobId, written);
    this.deps.bus.emit('batch.updated', await this.summary(jobId));
    return written;
  }

  /** Writes the caption files still pending: the job's, or only those of `paths` (one shard's, so two processes never write the same file). */
  private async writePendingSidecars(jobId: number, options: BatchJobOptions, paths?: readonly string[]): Promise<void> {
    const sidecar = options.outputs.sidecar;
    if (!sidecar) return;
    const { store } = this.deps;
    for (;;) {
      const pending = await store.batchReview.pendingSidecars(jobId, SIDECAR_PAGE, paths);
      if (pending.length === 0) return;
      const written: { path: string; caption: string | null }[] = [];
      for (const { item, writtenCaption } of pending) {
        const caption = finalCaption(item);
        if (caption === null) continue;
        try {
          const result = writeSidecar(item.path, caption, sidecar, writtenCaption);
          written.push({ path: item.path, caption: result === 'kept-existing' ? null : caption });
        } catch (error) {
          this.deps.logger.warn(`Could not write the caption file of ${item.path}: ${(error as Error).message}`);
          written.push({ path: item.path, caption: null });
        }
      }
      await store.batchReview.markSidecarsWritten(jobId, written);
      if (pending.length < SIDECAR_PAGE) return;
    }
  }

  // ─── previews, lists and deletion ──────────────────────────────────────────

  /**
   * Captions the first few images a job with these settings would caption,
   * without creating it: under the `skip` policy, images with a caption file
   * are passed over as the job passes over them, and the first of them are
   * listed as skipped.
   */
  async preview(request: { input: BatchInput; model: BatchModelChoice; decoding: Partial<DecodingSettings>; count: number; sidecar: SidecarOptions | null }): Promise<BatchPreview> {
    const input = checkInput(request.input);
    const sidecar = request.sidecar ? checkSidecar(request.sidecar, 'sidecar') : null;
    const model = await resolveBatchModel(this.deps, request.model);
    this.deps.mediaRoots.add(input.folder);
    const items: BatchItem[] = [];
    const skipped: BatchItem[] = [];
    const counts: BatchCounts = { total: null, captioned: 0, skippedExisting: 0, failed: 0, ignored: 0, excluded: 0 };
    const outcome = await this.deps.engine.call(
      'batch.caption',
      {
        model: model.source,
        dataDir: this.deps.dataDir,
        decoding: request.decoding,
        batchSize: Math.min(16, request.count),
        input,
        images: null,
        done: [],
        skipExistingExt: sidecar?.existing === 'skip' ? sidecar.ext : null,
        limit: request.count,
      },
      {
        onEvent: (report) => {
          for (const item of report.items) {
            if (item.outcome !== 'skipped') items.push({ ...item, editedCaption: null });
            else if (skipped.length < request.count) skipped.push({ ...item, editedCaption: null });
          }
          counts.ignored += report.ignored;
          counts.excluded += report.excluded;
        },
      },
    );
    counts.captioned = outcome.captioned;
    counts.failed = outcome.failed;
    counts.skippedExisting = outcome.skipped;
    const existingCaptionFiles = sidecar && sidecar.existing !== 'skip' ? items.filter((item) => existsSync(sidecarPath(item.path, sidecar.ext))).map((item) => item.path) : [];
    return { modelPath: model.path, decoding: outcome.decoding, items: [...items, ...skipped], counts, existingCaptionFiles };
  }

  async list(): Promise<BatchJobSummary[]> {
    const jobs = await this.deps.store.batchJobs.list();
    const out: BatchJobSummary[] = [];
    for (const job of jobs) {
      try {
        out.push(await this.summary(job.id));
      } catch (error) {
        // A job row without settings comes from an older schema's batch jobs; it cannot be shown or resumed.
        if (!(error instanceof ApiError && error.code === 'not_found')) throw error;
      }
    }
    return out;
  }

  async summary(jobId: number): Promise<BatchJobSummary> {
    const job = await this.requireJob(jobId);
    const settings = await this.deps.store.batchReview.settings(jobId);
    const status: BatchJobState = job.status;
    return {
      id: job.id,
      status,
      taskId: job.taskId,
      options: settings.options,
      modelPath: job.modelPath,
      modelLabel: settings.modelLabel,
      decoding: settings.decoding,
      counts: await this.counts(jobId, settings.total),
      outputs: settings.outputs,
      error: job.error,
      createdAt: job.createdAt,
      startedAt: job.startedAt,
      finishedAt: job.finishedAt,
    };
  }

  /** Deletes a job and its stored results; files it wrote stay. */
  async delete(jobId: number): Promise<void> {
    const job = await this.requireJob(jobId);
    if (job.status === 'running' || job.status === 'queued') throw new ApiError('conflict', `Batch job ${jobId} is ${job.status}; stop it first.`);
    await this.deps.store.batchJobs.delete(jobId);
    this.deps.bus.emit('batch.deleted', { jobId });
  }

  private async counts(jobId: number, total: number | null): Promise<BatchCounts> {
    const { sidecars: _sidecars, ...counts } = await this.deps.store.batchReview.counts(jobId);
    return { total, ...counts };
  }

  private async requireJob(jobId: number) {
    const job = await this.deps.store.batchJobs.get(jobId);
    if (!job) throw new ApiError('not_found', `No batch job with id ${jobId}.`);
    return job;
  }
}


// ─── checking a request ──────────────────────────────────────────────────────

function checkInput(input: BatchInput): BatchInput {
  if (!isAbsolute(input.folder)) throw new ApiError('invalid_request', `input.folder must be an absolute path (got "${input.folder}").`);
  const folder = resolve(input.folder);
  if (!existsSync(folder) || !statSync(folder).isDirectory()) throw new ApiError('not_found', `input.folder: ${folder} is not a folder.`);
  for (const [field, globs] of [['include', input.include], ['exclude', input.exclude]] as const) {
    globs.forEach((glob, index) => {
      try {
        globToRegExp(glob);
      } catch (error) {
        throw new ApiError('invalid_request', `input.${field}[${index}]: ${(error as Error).message}`);
      }
    });
  }
  return { ...input, folder };
}

function checkOutputPath(field: string, path: string | null): string | null {
  if (path === null) return null;
  if (!isAbsolute(path)) throw new ApiError('invalid_request', `outputs.${field} must be an absolute path (got "${path}").`);
  if (!existsSync(dirname(path))) throw new ApiError('not_found', `outputs.${field}: the folder ${dirname(path)} does not exist.`);
  if (existsSync(path) && statSync(path).isDirectory()) throw new ApiError('invalid_request', `outputs.${field}: ${path} is a folder; give a file name.`);
  return path;
}

/** The preview's caption-file options, checked as a job's are. */
function checkSidecar(sidecar: SidecarOptions, field: string): SidecarOptions {
  try {
    return { ...sidecar, ext: normalizeSidecarExt(sidecar.ext) };
  } catch (error) {
    throw new ApiError('invalid_request', `${field}.ext: ${(error as Error).message}`);
  }
}

function checkOptions(options: BatchJobOptions): BatchJobOptions {
  const input = checkInput(options.input);
  const { outputs } = options;
  let sidecar = outputs.sidecar;
  if (sidecar) {
    try {
      sidecar = { ...sidecar, ext: normalizeSidecarExt(sidecar.ext) };
    } catch (error) {
      throw new ApiError('invalid_request', `outputs.sidecar.ext: ${(error as Error).message}`);
    }
  }
  const checked: BatchOutputs = {
    sidecar,
    csv: checkOutputPath('csv', outputs.csv),
    jsonl: checkOutputPath('jsonl', outputs.jsonl),
    coco: checkOutputPath('coco', outputs.coco),
  };
  if (!checked.sidecar && !checked.csv && !checked.jsonl && !checked.coco) {
    throw new ApiError('invalid_request', 'outputs: choose at least one of caption files, CSV, JSONL or COCO results.');
  }
  return { ...options, input, outputs: checked };
}

type BatchOutputs = BatchJobOptions['outputs'];

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(timer);
      resolve();
    }, { once: true });
  });
}
