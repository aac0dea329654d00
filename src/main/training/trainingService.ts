/**
 * The main-process side of training: creates the run in the store, starts
 * the engine's `training.run` as a job, and turns the engine's stream into
 * stored metrics, sample captions and checkpoints, live events
 * (`training.step`, `training.epoch`, `training.finished`) and the run's
 * status. Stopping cancels the job; the engine finishes its step, saves a
 * checkpoint and answers `stopped`. The main process never runs a tensor op.
 */
import { hostname } from 'node:os';
import { basename, resolve } from 'node:path';
import { ApiError } from '../../shared/errors';
import type { RunConfig } from '../../shared/runConfig';
import type { JsonObject } from '../../shared/storeTypes';
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
import type { Services } from '../api/services';
import type { EngineProgress } from '../engine/protocol';

type Deps = Pick<Services, 'dataDir' | 'store' | 'engine' | 'jobs' | 'bus' | 'logger'>;

interface ActiveRun {
  runId: number;
  jobId: string;
  done: Promise<TrainingFinished>;
}

/** How often a training run tells the store it is alive, whatever the engine is doing (long validations). */
const HEARTBEAT_MS = 20_000;

export class TrainingService {
  private readonly active = new Map<number, ActiveRun>();

  constructor(private readonly deps: Deps) {}

  /** Creates a run for `config` and starts training it in the background. */
  async start(config: RunConfig, options: { tags?: string[] } = {}): Promise<TrainingStartResult> {
    const { store } = this.deps;
    const dataset = await store.datasets.getByPath(resolve(config.dataset.path));
    const run = await store.runs.create({
      ...(config.name ? { name: config.name } : {}),
      config: config as unknown as JsonObject,
      datasetId: dataset?.id ?? null,
      machine: hostname(),
      tags: options.tags ?? [],
      status: 'running',
    });
    return this.launch(run.id, config, null);
  }

  /** Continues a stopped, failed or crashed run from its newest checkpoint. */
  async resume(runId: number): Promise<TrainingStartResult> {
    if (this.active.has(runId)) throw new ApiError('conflict', `Run ${runId} is already training.`);
    const point = await this.deps.store.runs.resumePoint(runId);
    if (!point) throw new ApiError('conflict', `Run ${runId} has no checkpoint to resume from.`);
    if (point.status === 'completed') throw new ApiError('conflict', `Run ${runId} has completed; there is nothing to resume.`);
    await this.deps.store.runs.setStatus(runId, 'running');
    return this.launch(runId, point.config as unknown as RunConfig, point.checkpointPath);
  }

  /** Asks a training run to stop after its current step (it saves a checkpoint first). */
  stop(runId: number): { stopping: boolean } {
    const run = this.active.get(runId);
    if (!run) return { stopping: false };
    return { stopping: this.deps.jobs.cancel(run.jobId) };
  }

  /** Resolves when the run's current training job has ended. */
  finished(runId: number): Promise<TrainingFinished> {
    const run = this.active.get(runId);
    if (!run) throw new ApiError('not_found', `Run ${runId} is not training in this workbench.`);
    return run.done;
  }

  activeRuns(): Array<{ runId: number; jobId: string }> {
    return [...this.active.values()].map(({ runId, jobId }) => ({ runId, jobId }));
  }

  async estimate(config: RunConfig, steps: number): Promise<TrainingEstimate> {
    return this.deps.engine.call('training.estimate', { config, dataDir: this.deps.dataDir, steps });
  }

  private async launch(runId: number, config: RunConfig, resumeFrom: string | null): Promise<TrainingStartResult> {
    const { store, jobs, engine, bus, logger, dataDir } = this.deps;
    const runDir = await store.runs.directory(runId);
    const recorder = new RunRecorder(this.deps, runId, config);
    let resolveDone!: (finished: TrainingFinished) => void;
    const done = new Promise<TrainingFinished>((resolvePromise) => (resolveDone = resolvePromise));
    const title = `Training run ${runId}${config.name ? ` (${config.name})` : ''}`;
    const { jobId } = jobs.start('training', title, async (job) => {
      const heartbeat = setInterval(() => void store.runs.heartbeat(runId).catch(() => undefined), HEARTBEAT_MS);
      let finished: TrainingFinished;
      try {
        const result = await engine.call(
          'training.run',
          { config, runDir, dataDir, resumeFrom },
          {
            signal: job.signal,
            onEvent: (event) => recorder.record(event),
            onProgress: (progress: EngineProgress) =>
              job.progress({ stage: progress.stage, done: progress.done, total: progress.total, etaSeconds: progress.etaSeconds ?? null, ...(progress.message ? { message: progress.message } : {}) }),
          },
        );
        await recorder.settled();
        finished = await this.conclude(runId, jobId, result, null);
      } catch (error) {
        await recorder.settled();
        finished = await this.conclude(runId, jobId, null, error);
      } finally {
        clearInterval(heartbeat);
        this.active.delete(runId);
      }
      bus.emit('training.finished', finished);
      resolveDone(finished);
      if (finished.status === 'failed' || finished.status === 'crashed') throw new ApiError('internal', finished.error ?? 'Training failed.');
      return finished;
    });
    this.active.set(runId, { runId, jobId, done });
    logger.info(`${title} started${resumeFrom ? ` from ${resumeFrom}` : ''}.`);
    return { runId, jobId, runDir };
  }

  /** Writes the run's final status and builds the final word on it. */
  private async conclude(runId: number, jobId: string, result: TrainingResult | null, error: unknown): Promise<TrainingFinished> {
    const { store, logger } = this.deps;
    let status: TrainingFinished['status'];
    let message: string | null = null;
    if (result) {
      status = result.outcome === 'stopped' ? 'stopped' : 'completed';
    } else {
      message = error instanceof Error ? error.message : String(error);
      status = error instanceof ApiError && error.code === 'engine_crashed' ? 'crashed' : 'failed';
      if (error instanceof ApiError && error.code === 'cancelled') status = 'stopped';
    }
    try {
      await store.runs.setStatus(runId, status, { error: message });
    } catch (storeError) {
      logger.error(`Run ${runId}: could not record status ${status}: ${(storeError as Error).message}`);
    }
    const latest = await store.checkpoints.latest(runId).catch(() => null);
    logger.info(`Run ${runId} ${status}${message ? `: ${message}` : ''}.`);
    return {
      runId,
      jobId,
      status,
      outcome: result?.outcome ?? null,
      epochsCompleted: result?.epochsCompleted ?? latest?.epoch ?? 0,
      globalStep: result?.globalStep ?? latest?.step ?? 0,
      checkpoint: result?.lastCheckpoint ?? latest?.path ?? null,
      bestCheckpoint: result?.bestCheckpoint ?? null,
      validation: result?.validation ?? null,
      error: message,
    };
  }
}

/**
 * Turns one run's engine events into store writes and bus events. Writes
 * are chained so they happen in order; `settled()` waits for the last.
 */
class RunRecorder {
  private chain: Promise<void> = Promise.resolve();

  constructor(
    private readonly deps: Deps,
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
