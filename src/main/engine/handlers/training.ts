/**
 * Engine methods for training. `training.run` trains (or resumes) a run and
 * streams its events (`TrainingEvent`); stopping is the call's
 * AbortSignal: the current step finishes, a checkpoint is written, and the
 * call answers normally with outcome `stopped`. `training.estimate` times a
 * few real steps of a configuration on this engine's backend.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RunConfig } from '../../../shared/runConfig';
import type { TrainingEstimate, TrainingEvent, TrainingResult, TrainingStarted } from '../../../shared/trainingTypes';
import type { BackendInfo } from '../../../shared/types';
import { initBackend } from '../../ml/backend';
import type { EngineContext } from '../protocol';
import { train } from '../../ml/train/trainer';

export interface TrainingRunParams {
  config: RunConfig;
  runDir: string;
  dataDir: string;
  /** A checkpoint folder to continue from. */
  resumeFrom: string | null;
}

export interface TrainingEstimateParams {
  config: RunConfig;
  dataDir: string;
  /** Steps to time (the first is a warm-up and not counted). */
  steps: number;
}

export const trainingEngineHandlers = {
  async 'training.run'(params: TrainingRunParams, ctx: EngineContext<TrainingEvent>): Promise<TrainingResult> {
    const backend = await initBackend();
    // A terminal's Ctrl-C reaches the whole process group, this engine too. The
    // parent decides how training stops (finish the step, save, answer), so the
    // engine must not die on it mid-step.
    const ignoreInterrupt = () => undefined;
    process.on('SIGINT', ignoreInterrupt);
    try {
      return await runTraining(params, ctx, backend);
    } finally {
      process.off('SIGINT', ignoreInterrupt);
    }
  },


  async 'training.estimate'(params: TrainingEstimateParams, ctx: EngineContext): Promise<TrainingEstimate> {
    const backend = await initBackend();
    const scratch = await mkdtemp(join(tmpdir(), 'captioner-estimate-'));
    let started: TrainingStarted | null = null;
    const times: number[] = [];
    const tokens: number[] = [];
    try {
      await train({
        config: { ...params.config, training: { ...params.config.training, epochs: Math.max(params.config.training.epochs, 1) } },
        runDir: scratch,
        dataDir: params.dataDir,
        backend,
        signal: ctx.signal,
        maxSteps: params.steps,
        stepsOnly: true,
        sameBatch: true,
        stepEventIntervalMs: 0,
        onEvent: (event) => {
          if (event.kind === 'started') started = event;
          if (event.kind === 'step') {
            times.push(event.seconds);
            tokens.push(event.tokensPerSecond * event.seconds);
          }
        },
        onProgress: (progress) => ctx.progress(progress),
      });
    } finally {
      await rm(scratch, { recursive: true, force: true });
    }
    const info = started as TrainingStarted | null;
    if (!info || times.length === 0) throw new Error('The estimate ran no training steps (is the training split empty?).');
    // Training's steady state: past the first step (allocation), and on the native backend past the two eager
    // steps and the first graph run (tracing, building, optimizing the graph) when there are enough steps.
    const warmUp = times.length >= 6 ? 3 : times.length > 1 ? 1 : 0;
    const counted = times.slice(warmUp);
    const countedTokens = tokens.slice(warmUp);
    const secondsPerStep = median(counted);
    return {
      backend: info.backend,
      device: info.device,
      batchSize: info.batchSize,
      stepsPerEpoch: info.stepsPerEpoch,
      trainCaptions: info.trainCaptions,
      secondsPerStep,
      secondsPerEpoch: secondsPerStep * info.stepsPerEpoch,
      tokensPerSecond: countedTokens.reduce((a, b) => a + b, 0) / counted.reduce((a, b) => a + b, 0),
      parameters: info.parameters,
      warnings: info.warnings,
    };
  },
};

function runTraining(params: TrainingRunParams, ctx: EngineContext<TrainingEvent>, backend: BackendInfo): Promise<TrainingResult> {
  return train({
    config: params.config,
    runDir: params.runDir,
    dataDir: params.dataDir,
    backend,
    resumeFrom: params.resumeFrom,
    signal: ctx.signal,
    onEvent: (event) => ctx.emit(event),
    onProgress: (progress) => ctx.progress(progress),
    log: (level, message) => ctx.log(level, message),
  });
}

/** The middle value (the mean of the middle two): one slow step (a collection, a busy moment) does not move it. */
function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}
