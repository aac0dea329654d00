/** Tiny training configurations and runs for the training tests (seconds on any backend). */
import * as tf from '@tensorflow/tfjs';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { currentBackend } from '../../src/main/ml/backend';
import { train, type TrainOptions } from '../../src/main/ml/train/trainer';
import { configFromPreset, type RunConfig } from '../../src/shared/runConfig';
import type { TrainingEvent, TrainingResult, TrainingStep } from '../../src/shared/trainingTypes';
import { writeTinyDataset } from './tinyDataset';

export interface TinyWorkspace {
  root: string;
  dataset: string;
}

let shared: Promise<TinyWorkspace> | null = null;

/** One tiny dataset per test file (written once). */
export function tinyWorkspace(): Promise<TinyWorkspace> {
  shared ??= (async () => {
    const root = mkdtempSync(join(tmpdir(), 'captioner-train-'));
    const dataset = await writeTinyDataset(join(root, 'data'));
    return { root, dataset };
  })();
  return shared;
}

/**
 * A valid RunConfig, then shrunk below the product's ranges (which bound
 * what users configure, not what the engine can run) so tests stay fast.
 */
export function tinyConfig(dataset: string, changes: (config: RunConfig) => void = () => undefined): RunConfig {
  const config = configFromPreset('shapes-quick', {
    dataset: { path: dataset },
    encoder: { imageSize: 16, scratchChannels: 4 },
    training: { epochs: 3, seed: 7, earlyStoppingPatience: 0 },
    validation: { subsetSize: 4, sampleImages: 2 },
    optimizer: { learningRate: 0.005 },
  });
  config.decoder.embeddingDim = 8;
  config.decoder.units = 12;
  config.decoder.attentionDim = 8;
  config.training.batchSize = 8 as RunConfig['training']['batchSize'];
  changes(config);
  return config;
}

export interface RecordedRun {
  result: TrainingResult;
  events: TrainingEvent[];
  runDir: string;
}

let runCounter = 0;

export async function trainTiny(workspace: TinyWorkspace, config: RunConfig, options: Partial<TrainOptions> = {}): Promise<RecordedRun> {
  const events: TrainingEvent[] = [];
  const runDir = options.runDir ?? join(workspace.root, `run-${++runCounter}`);
  const backend = currentBackend();
  if (!backend) throw new Error('Call useTestBackend() or useTestBackend() first.');
  const result = await train({
    config,
    runDir,
    dataDir: workspace.root,
    backend,
    stepEventIntervalMs: 0,
    ...options,
    onEvent: (event) => {
      events.push(event);
      options.onEvent?.(event);
    },
  });
  return { result, events, runDir };
}

/** Every step's loss from a run's events (step events carry the steps since the previous one). */
export const stepLosses = (events: ReadonlyArray<{ kind: string }>): number[] =>
  (events.filter((event) => event.kind === 'step') as TrainingStep[]).flatMap((event) => event.recent.map(([, loss]) => loss));

/** Trains `steps` steps and answers the live tensor count after each step, and before and after the run. */
export async function tensorCountsOver(workspace: TinyWorkspace, config: RunConfig, steps: number): Promise<{ before: number; perStep: number[]; after: number }> {
  const perStep: number[] = [];
  const before = tf.memory().numTensors;
  await trainTiny(workspace, config, {
    maxSteps: steps,
    onEvent: (event) => {
      if (event.kind === 'step') perStep.push(tf.memory().numTensors);
    },
  });
  return { before, perStep, after: tf.memory().numTensors };
}
