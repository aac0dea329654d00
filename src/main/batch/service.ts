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
import { ApiError } from '../../shared/errors';
import type { DecodingSettings } from '../../shared/inferenceTypes';
import type { JsonObject } from '../../shared/storeTypes';
import type { EventBus } from '../core/eventBus';
import type { Logger } from '../core/logger';
import type { MediaRoots } from '../core/mediaRoots';
import type { EngineSupervisor } from '../engine/supervisor';
import { globToRegExp } from '../lib/batch/glob';
import { writeOutputFile, finalCaption, type OutputFormat } from '../lib/batch/outputs';
import { normalizeSidecarExt, sidecarPath, writeSidecar } from '../lib/batch/sidecar';
import type { CaptionJobReport } from '../ml/batch/captionJob';
import type { ExperimentStore } from '../store';
import type { BatchItemQuery } from '../store/batchReview';
import type { TaskRuntime } from '../tasks/runtime';
import { StoppedEarly, type ProgressUpdate } from '../tasks/types';
import { resolveBatchModel } from './modelChoice';

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

/** The decoding in a few words, as outputs record it. */
export function decodingLabel(settings: DecodingSettings): string {
  const limits = `length ${settings.minLength}-${settings.maxLength}${settings.noRepeatNgramSize ? `, no repeated ${settings.noRepeatNgramSize}-grams` : ''}`;
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

  async create(options: BatchJobOptions): Promise<BatchJobSummary> {
    const checked = checkOptions(options);
    const model = await resolveBatchModel(this.deps, checked.model);
    const { store } = this.deps;
    const job = await store.batchJobs.create({
      inputPath: checked.input.folder,
      modelPath: model.path,
      runId: model.runId,
      decoding: checked.decoding as JsonObject,
      total: 0,
    });
    await store.batchReview.setup(job.id, checked, model.label);
    this.deps.mediaRoots.add(checked.input.folder);
    // The job's task is queued with it; this process runs it (a one-shot command runs only what it adopts).
    if (job.taskId !== null) this.deps.tasks.adopt(job.taskId);
    const summary = await this.summary(job.id);
    this.deps.bus.emit('batch.updated', summary);
    return summary;
  }

  /**
   * Resumes a stopped, failed or crashed job (its task is queued again and
   * continues with the images still missing); a job whose task a crash
   * already queued again is simply taken up. Answers the task to follow.
   */
  async resume(jobId: number): Promise<{ jobId: number; taskId: number }> {
    const job = await this.requireJob(jobId);
    // A process that died while running it leaves the task running until someone recovers it: do it now.
    await this.deps.tasks.recover();
    const task = job.taskId === null ? null : await this.deps.store.tasks.get(job.taskId);
    if (!task) throw new ApiError('conflict', `Batch job ${jobId} has no task to resume (it was deleted).`);
    if (task.state === 'completed') throw new ApiError('conflict', `Batch job ${jobId} is complete; nothing is left to caption.`);
    if (task.state === 'running' || task.state === 'stopping') throw new ApiError('conflict', `Batch job ${jobId} is running (task ${task.id}).`);
    if (task.state === 'queued') this.deps.tasks.adopt(task.id);
    else await this.deps.tasks.resume(task.id);
    return { jobId, taskId: task.id };
  }

  /** Asks a running job to stop after its current batch; it stays resumable. */
  async stop(jobId: number): Promise<boolean> {
    const job = await this.requireJob(jobId);
    return job.taskId === null ? false : this.deps.tasks.stop(job.taskId);
  }

  /** The job's body: caption what is missing, store and write as it goes, then write the job-wide outputs. */
  async run(jobId: number, context: BatchRunContext): Promise<BatchJobResult> {
    const { store, engine } = this.deps;
    const started = performance.now();
    const settings = await this.settingsOf(jobId);
    const options = settings.options;
    const model = await resolveBatchModel(this.deps, options.model);
    {
      // A crash may have come between storing a batch and writing its caption files.
      await this.writePendingSidecars(jobId, options);
      const done = await store.batchReview.donePaths(jobId);
      const before = done.length;
      let captionedNow = 0;
      let reportedNow = 0;
      let total = settings.total;
      // Reports are stored one after the other, in order, while the engine goes on.
      let chain: Promise<void> = Promise.resolve();
      const handle = async (report: CaptionJobReport) => {
        await store.batchReview.record(
          jobId,
          report.items,
          { ignored: report.ignored, excluded: report.excluded, sidecarPending: options.outputs.sidecar !== null },
        );
        await this.writePendingSidecars(jobId, options);
        captionedNow += report.items.filter((item) => item.outcome === 'captioned').length;
        reportedNow += report.items.length;
        if (report.total !== null && report.total !== total) {
          total = report.total;
          await store.batchReview.setTotal(jobId, total);
        }
        const seconds = (performance.now() - started) / 1000;
        const rate = seconds > 0 ? reportedNow / seconds : null;
        const doneAll = before + reportedNow;
        const progress: BatchProgress = {
          jobId,
          done: doneAll,
          total,
          imagesPerSecond: rate,
          etaSeconds: rate && total !== null ? Math.max(0, total - doneAll) / rate : null,
          counts: await this.counts(jobId, total),
        };
        this.deps.bus.emit('batch.progress', progress);
        context.progress({ stage: 'captioning', done: doneAll, total, unit: 'images', ...(rate ? { message: `${rate.toFixed(1)} images/s` } : {}) });
      };
      let failure: unknown = null;
      const outcome = await engine.call(
        'batch.caption',
        {
          model: model.source,
          dataDir: this.deps.dataDir,
          decoding: options.decoding,
          batchSize: options.batchSize,
          input: options.input,
          images: null,
          done,
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
      if (outcome.total !== null) await store.batchReview.setTotal(jobId, outcome.total);
      if (!outcome.stopped) await this.writeOutputs(jobId);
      const status: BatchJobState = outcome.stopped ? 'stopped' : 'completed';
      const settingsNow = await store.batchReview.settings(jobId);
      const result: BatchJobResult = {
        jobId,
        status,
        counts: await this.counts(jobId, settingsNow.total),
        outputs: settingsNow.outputs,
        captionedNow,
        seconds: (performance.now() - started) / 1000,
      };
      // A stop ends the task as cancelled (the job as stopped), with what it did so far.
      if (outcome.stopped) throw new StoppedEarly({ ...result } as unknown as JsonObject, `Batch job ${jobId} stopped after ${result.counts.captioned} captions; resume it to caption the rest.`);
      return result;
    }
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

  private async writePendingSidecars(jobId: number, options: BatchJobOptions): Promise<void> {
    const sidecar = options.outputs.sidecar;
    if (!sidecar) return;
    const { store } = this.deps;
    for (;;) {
      const pending = await store.batchReview.pendingSidecars(jobId, SIDECAR_PAGE);
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
