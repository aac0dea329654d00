/**
 * The training domain in the main process. Starting a run creates the run
 * and its queued `training` task in the store; the task runtime claims it
 * (here, or a worker sharing the store) and runs `trainingTask`, which calls
 * the engine's `training.run` and turns its typed event stream into stored
 * metrics, sample captions and checkpoints and live events
 * (`training.step`, `training.epoch`, `training.finished`). A run's status
 * is its task's state. Stopping is the task's stop request: the engine
 * finishes its step, saves a checkpoint and answers `stopped`. Resuming
 * queues the same task again; it continues from the newest checkpoint. The
 * main process never runs a tensor op.
 */
import { existsSync } from 'node:fs';
import { hostname } from 'node:os';
import { basename, resolve } from 'node:path';
import { z } from 'zod';
import { ApiError } from '../../shared/errors';
import type { RunConfig } from '../../shared/runConfig';
import type { JsonObject, RunRecord } from '../../shared/storeTypes';
import type { TaskPlacement, TaskRecord } from '../../shared/taskTypes';
import type {
  TrainingCheckpoint,
  TrainingEpoch,
  TrainingEstimate,
  TrainingEvent,
  TrainingFinished,
  TrainingResult,
  TrainingStartResult,
  TrainingStep,
} from '../../shared/trainingTypes';
import type { EventBus } from '../core/eventBus';
import type { Logger } from '../core/logger';
import type { EngineSupervisor } from '../engine/supervisor';
import type { ExperimentStore } from '../store';
import { plainJson } from '../store/json';
import type { TaskRuntime } from '../tasks/runtime';
import { StoppedEarly, type TaskContext, type TaskHandler } from '../tasks/types';
import { reconcileRunCheckpoints, type ReconciledRun } from './checkpointRecords';
import { recordSkippedImages } from './skippedImages';

export interface TrainingServiceDeps {
  dataDir: string;
  store: ExperimentStore;
  engine: EngineSupervisor;
  tasks: TaskRuntime;
  bus: EventBus;
  logger: Logger;
}

/** What a training task needs to run anywhere: the run it trains (its config and checkpoints are in the store). */
const trainingTaskParams = z.object({ runId: z.number().int().positive() }).strict();
type TrainingTaskParams = z.infer<typeof trainingTaskParams>;

export class TrainingService {
  constructor(private readonly deps: TrainingServiceDeps) {}

  /** The task handler this domain contributes to the runtime. */
  taskHandler(): TaskHandler<TrainingTaskParams, JsonObject> {
    return {
      kind: 'training',
      parse: (params) => trainingTaskParams.parse(params),
      run: (context) => this.train(context),
      // A kill may leave best/, the rows and the training state disagreeing: the files decide.
      recovered: async (task) => {
        if (task.subject?.type === 'run') await this.reconcileCheckpoints(task.subject.id);
      },
      // A crashed run resumes from its last checkpoint when the user says so.
      onCrash: 'manual',
    };
  }

  /**
   * Creates a run for `config` and queues its training: for anyone (this
   * process runs it when it can), or with `placement: 'workers'` for the
   * `captioner worker` processes sharing the store only.
   */
  async start(config: RunConfig, options: { tags?: string[]; trialId?: number; placement?: TaskPlacement } = {}): Promise<TrainingStartResult> {
    const { store, tasks } = this.deps;
    const datasetPath = resolve(config.dataset.path);
    // Refused before a run row exists: a run that can only fail is not a run.
    if (!existsSync(datasetPath)) {
      throw new ApiError('invalid_request', `dataset.path: ${datasetPath} does not exist.`, [{ path: 'dataset.path', message: 'does not exist' }]);
    }
    const dataset = await store.datasets.getByPath(datasetPath);
    const run = await store.runs.create({
      ...(config.name ? { name: config.name } : {}),
      config: config as unknown as JsonObject,
      datasetId: dataset?.id ?? null,
      machine: hostname(),
      tags: options.tags ?? [],
      placement: options.placement ?? 'any',
    });
    tasks.adopt(this.taskIdOf(run), options.placement);
    this.deps.logger.info(`Training run ${run.id}${config.name ? ` (${config.name})` : ''} queued${options.placement === 'workers' ? ' for the workers' : ''}.`);
    return this.startResult(run);
  }

  /** Queues a stopped, failed or crashed run again (placement omitted: as before); it continues from its newest checkpoint. */
  async resume(runId: number, options: { placement?: TaskPlacement } = {}): Promise<TrainingStartResult> {
    const run = await this.runOf(runId);
    const task = await this.taskOf(run);
    if (task.state === 'completed') throw new ApiError('conflict', `Run ${runId} has completed; there is nothing to resume.`);
    if (task.state === 'queued' || task.state === 'running' || task.state === 'stopping') {
      throw new ApiError('conflict', `Run ${runId} is already ${task.state === 'queued' ? 'queued' : 'training'}.`);
    }
    await this.reconcileCheckpoints(runId);
    const point = await this.deps.store.runs.resumePoint(runId);
    if (!point) throw new ApiError('conflict', `Run ${runId} has no checkpoint to resume from.`);
    await this.deps.tasks.resume(task.id, options.placement === undefined ? {} : { placement: options.placement });
    return this.startResult(run);
  }

  /** Asks a run to stop after its current step (it saves a checkpoint first); a queued run is cancelled. */
  async stop(runId: number): Promise<{ stopping: boolean }> {
    const task = await this.taskOf(await this.runOf(runId));
    return { stopping: await this.deps.tasks.stop(task.id) };
  }

  /** Resolves with the final word on the run once its current task has ended, wherever it ran. */
  async finished(runId: number, options: { signal?: AbortSignal } = {}): Promise<TrainingFinished> {
    const run = await this.runOf(runId);
    const task = await this.deps.tasks.wait(this.taskIdOf(run), options);
    return this.finalWord(runId, task);
  }

  /** Runs training in this workbench now. */
  activeRuns(): Array<{ runId: number; taskId: number }> {
    return this.deps.tasks
      .runningHere()
      .filter((task) => task.kind === 'training' && task.subject?.type === 'run')
      .map((task) => ({ runId: task.subject!.id, taskId: task.id }));
  }

  async estimate(config: RunConfig, steps: number): Promise<TrainingEstimate> {
    return this.deps.engine.call('training.estimate', { config, dataDir: this.deps.dataDir, steps });
  }

  private async train(context: TaskContext<TrainingTaskParams>): Promise<JsonObject> {
    const { store, engine, bus, logger, dataDir } = this.deps;
    const { runId } = context.params;
    const run = await this.runOf(runId);
    const config = run.config as unknown as RunConfig;
    const runDir = await store.runs.directory(runId);
    if (context.task.attempts > 1) await this.reconcileCheckpoints(runId);
    const resumeFrom = (await store.runs.resumePoint(runId))?.checkpointPath ?? null;
    const recorder = new RunRecorder(this.deps, runId, config);
    logger.info(`Training run ${runId} started${resumeFrom ? ` from ${resumeFrom}` : ''}.`);
    let result: TrainingResult;
    try {
      result = await engine.call(
        'training.run',
        { config, runDir, dataDir, resumeFrom },
        {
          signal: context.signal,
          onEvent: (event) => recorder.record(event),
          onProgress: (progress) => context.progress({ stage: progress.stage, done: progress.done, total: progress.total, unit: 'steps', ...(progress.message ? { message: progress.message } : {}) }),
        },
      );
    } catch (error) {
      await recorder.settled();
      const crashed = error instanceof ApiError && error.code === 'engine_crashed';
      const stopped = error instanceof ApiError && error.code === 'cancelled';
      bus.emit('training.finished', await this.finalWord(runId, null, { status: crashed ? 'crashed' : stopped ? 'stopped' : 'failed', error: (error as Error).message }));
      throw error;
    }
    await recorder.settled();
    const summary = plainJson(result);
    bus.emit('training.finished', await this.finalWord(runId, null, { status: result.outcome === 'stopped' ? 'stopped' : 'completed', result }));
    if (result.outcome === 'stopped') throw new StoppedEarly(summary, `Run ${runId} stopped after epoch ${result.epochsCompleted}; resume it to continue.`);
    return summary;
  }

  /**
   * The final word on a run, from the store (so it is the same whoever ran
   * it): status, newest and best checkpoint, and the result when known.
   */
  private async finalWord(
    runId: number,
    task: TaskRecord | null,
    known: { status?: TrainingFinished['status']; result?: TrainingResult; error?: string | null } = {},
  ): Promise<TrainingFinished> {
    const { store } = this.deps;
    const run = await this.runOf(runId);
    const result = known.result ?? (task?.result as unknown as TrainingResult | null) ?? null;
    // After a failure or crash the files decide which checkpoint is the best.
    const reconciled = result ? null : await this.reconcileCheckpoints(runId);
    const checkpoints = await store.checkpoints.list(runId);
    const latest = await store.checkpoints.latest(runId);
    const best = checkpoints.find((checkpoint) => checkpoint.isBest) ?? null;
    const status = known.status ?? runStatusAsFinished(run.status);
    return {
      runId,
      taskId: task?.id ?? this.taskIdOf(run),
      status,
      outcome: result?.outcome ?? null,
      epochsCompleted: result?.epochsCompleted ?? latest?.epoch ?? 0,
      globalStep: result?.globalStep ?? latest?.step ?? 0,
      checkpoint: result?.lastCheckpoint ?? latest?.path ?? null,
      bestCheckpoint: result?.bestCheckpoint ?? reconciled?.best ?? best?.path ?? null,
      validation: result?.validation ?? null,
      error: known.error !== undefined ? known.error : (task?.error ?? run.error),
    };
  }

  private async reconcileCheckpoints(runId: number): Promise<ReconciledRun | null> {
    try {
      const reconciled = await reconcileRunCheckpoints(this.deps.store, runId);
      for (const action of reconciled.actions) this.deps.logger.warn(`Run ${runId}: ${action}.`);
      return reconciled;
    } catch (error) {
      this.deps.logger.error(`Run ${runId}: could not check its checkpoints: ${(error as Error).message}`);
      return null;
    }
  }

  private startResult(run: RunRecord): TrainingStartResult {
    return { runId: run.id, taskId: this.taskIdOf(run), runDir: resolve(this.deps.dataDir, 'runs', String(run.id)) };
  }

  private async runOf(runId: number): Promise<RunRecord> {
    const run = await this.deps.store.runs.get(runId);
    if (!run) throw new ApiError('not_found', `No run with id ${runId}.`);
    return run;
  }

  private taskIdOf(run: RunRecord): number {
    if (run.taskId === null) throw new ApiError('conflict', `Run ${run.id} has no training task.`);
    return run.taskId;
  }

  private async taskOf(run: RunRecord): Promise<TaskRecord> {
    const task = await this.deps.store.tasks.get(this.taskIdOf(run));
    if (!task) throw new ApiError('not_found', `Run ${run.id}'s task ${run.taskId} is missing.`);
    return task;
  }
}

function runStatusAsFinished(status: RunRecord['status']): TrainingFinished['status'] {
  if (status === 'completed' || status === 'stopped' || status === 'failed' || status === 'crashed') return status;
  return 'failed';
}

/**
 * Turns one run's engine events into store writes and bus events. Writes
 * are chained so they happen in order; `settled()` waits for the last.
 */
class RunRecorder {
  private chain: Promise<void> = Promise.resolve();

  constructor(
    private readonly deps: TrainingServiceDeps,
    private readonly runId: number,
    private readonly config: RunConfig,
  ) {}

  record(event: TrainingEvent): void {
    this.chain = this.chain.then(() => this.handle(event)).catch((error: unknown) => {
      this.deps.logger.error(`Run ${this.runId}: could not record a ${event.kind} event: ${(error as Error).message}`);
    });
  }

  settled(): Promise<void> {
    return this.chain;
  }

  private async handle(event: TrainingEvent): Promise<void> {
    switch (event.kind) {
      case 'started':
        return this.started(event);
      case 'step':
        return this.step(event);
      case 'epoch':
        return this.epoch(event);
      case 'checkpoint':
        return this.checkpoint(event);
    }
  }

  private async started(event: Extract<TrainingEvent, { kind: 'started' }>): Promise<void> {
    const { store, logger } = this.deps;
    await store.runs.setStatus(this.runId, 'running', { backend: event.backend });
    for (const warning of event.warnings) logger.warn(`Run ${this.runId}: ${warning}`);
    await recordSkippedImages(store, this.runId, event.skippedImages).catch((error: unknown) => logger.error(`Run ${this.runId}: could not store its skipped images: ${(error as Error).message}`));
    this.deps.bus.emit('training.started', { ...event, runId: this.runId });
  }

  private async step(event: TrainingStep): Promise<void> {
    const writer = this.deps.store.metricWriter;
    const epoch = event.epoch;
    for (const [step, loss, learningRate] of event.recent) {
      writer.write({ runId: this.runId, key: 'train/loss', step, epoch, value: loss });
      writer.write({ runId: this.runId, key: 'train/learningRate', step, epoch, value: learningRate });
    }
    if (Number.isFinite(event.gradNorm)) writer.write({ runId: this.runId, key: 'train/gradNorm', step: event.globalStep, epoch, value: event.gradNorm });
    writer.write({ runId: this.runId, key: 'train/tokensPerSecond', step: event.globalStep, epoch, value: event.tokensPerSecond });
    this.deps.bus.emit('training.step', { ...event, runId: this.runId });
  }

  private async epoch(event: TrainingEpoch): Promise<void> {
    const { store, bus } = this.deps;
    const step = event.globalStep;
    const values: Record<string, number> = {
      'epoch/trainLoss': event.trainLoss,
      'val/loss': event.valLoss,
      'val/bleu4': event.bleu4,
      'val/ciderD': event.ciderD,
      'epoch/learningRate': event.learningRate,
      'epoch/seconds': event.seconds,
    };
    for (const [key, value] of Object.entries(values)) {
      if (Number.isFinite(value)) store.metricWriter.write({ runId: this.runId, key, step, epoch: event.epoch, value });
    }
    await store.metricWriter.flush();
    if (event.samples.length > 0) {
      await store.samples.add(
        this.runId,
        event.epoch,
        step,
        event.samples.map((sample) => ({ imageId: sample.imageId, imagePath: sample.imagePath, caption: sample.caption, references: sample.references })),
      );
    }
    bus.emit('training.epoch', { ...event, runId: this.runId });
  }

  private async checkpoint(event: TrainingCheckpoint): Promise<void> {
    const { store } = this.deps;
    await store.checkpoints.add({
      runId: this.runId,
      epoch: event.epoch,
      step: event.globalStep,
      path: event.path,
      metrics: Object.fromEntries(Object.entries(event.metrics).filter(([, value]) => Number.isFinite(value))),
      isBest: event.isBest,
    });
    if (event.reason === 'epoch') await this.prune(event);
  }

  /** Keeps the newest `keepEpochCheckpoints` epoch checkpoints; drops stop checkpoints an epoch checkpoint superseded. */
  private async prune(latest: TrainingCheckpoint): Promise<void> {
    const { store } = this.deps;
    const all = await store.checkpoints.list(this.runId);
    const epochs = all.filter((c) => /^epoch-\d+$/.test(basename(c.path))).sort((a, b) => a.step - b.step);
    const stale = [
      ...epochs.slice(0, Math.max(0, epochs.length - this.config.training.keepEpochCheckpoints)),
      ...all.filter((c) => /^step-\d+$/.test(basename(c.path)) && c.step <= latest.globalStep),
    ];
    for (const checkpoint of stale) {
      if (checkpoint.isBest) continue;
      await store.checkpoints.remove(checkpoint.id);
    }
  }
}
