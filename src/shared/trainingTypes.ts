/**
 * Plain data about training that crosses process boundaries: what the engine
 * streams while a run trains (steps, epochs, checkpoints), what a training
 * call answers, and the API's response types. No tensors, no classes.
 */
import type { RunPreset, SearchDimension } from './runConfig';

export interface TrainingStarted {
  kind: 'started';
  backend: string;
  device: string;
  batchSize: number;
  stepsPerEpoch: number;
  epochs: number;
  trainImages: number;
  trainCaptions: number;
  valImages: number;
  /** Validation images greedily captioned and scored each epoch. */
  validationImages: number;
  vocabularySize: number;
  parameters: number;
  /** Things the user should know, e.g. the pure-JS backend is very slow. */
  warnings: string[];
  /** Images of the run's splits that could not be decoded and are left out, each with its reason. */
  skippedImages: SkippedImage[];
  resumedFrom: string | null;
  epochsCompleted: number;
  globalStep: number;
}

export interface SkippedImage {
  id: string;
  file: string;
  reason: string;
}

export interface TrainingStep {
  kind: 'step';
  /** 1-based epoch being trained. */
  epoch: number;
  /** Steps done in this epoch. */
  step: number;
  stepsPerEpoch: number;
  globalStep: number;
  loss: number;
  learningRate: number;
  gradNorm: number;
  /** Seconds the last step took. */
  seconds: number;
  tokensPerSecond: number;
  samplingProbability: number;
  /** Seconds until the run ends: the steps and validations left at the smoothed pace, or the time budget's end when that comes first. The same as the task progress's ETA. */
  etaSeconds: number;
  /** Every step since the previous event, [globalStep, loss, learningRate], so the stored curve has all steps. */
  recent: Array<[number, number, number]>;
}

export interface SampleCaptionData {
  imageId: string;
  imagePath: string;
  caption: string;
  references: string[];
}

export interface TrainingEpoch {
  kind: 'epoch';
  /** 1-based: the epoch just finished. */
  epoch: number;
  epochs: number;
  globalStep: number;
  trainLoss: number;
  valLoss: number;
  bleu4: number;
  ciderD: number;
  learningRate: number;
  /** Training plus validation time of this epoch. */
  seconds: number;
  validationSeconds: number;
  improved: boolean;
  bestEpoch: number | null;
  samples: SampleCaptionData[];
}

export interface TrainingCheckpoint {
  kind: 'checkpoint';
  path: string;
  /** Epochs completed when it was written. */
  epoch: number;
  globalStep: number;
  isBest: boolean;
  reason: 'epoch' | 'best' | 'stop';
  sizeBytes: number;
  metrics: Record<string, number>;
}

export type TrainingEvent = TrainingStarted | TrainingStep | TrainingEpoch | TrainingCheckpoint;

/** `pruned`: the end-of-epoch hook (a tuner's pruner) ended the run; it keeps its checkpoints. */
export type TrainingOutcome = 'completed' | 'early-stopped' | 'stopped' | 'pruned';

export interface ValidationSummary {
  valLoss: number;
  bleu4: number;
  ciderD: number;
}

/** What the engine's training call answers. */
export interface TrainingResult {
  outcome: TrainingOutcome;
  epochsCompleted: number;
  globalStep: number;
  lastCheckpoint: string | null;
  bestCheckpoint: string | null;
  bestEpoch: number | null;
  validation: ValidationSummary | null;
}

/** `training.start` and `training.resume` answer this at once; the run trains in the background. */
export interface TrainingStartResult {
  runId: number;
  /** The run's training task (its state is the run's status). */
  taskId: number;
  runDir: string;
}

/** The final word on a run (the CLI prints it as the last JSON line). */
export interface TrainingFinished {
  runId: number;
  taskId: number;
  status: 'completed' | 'stopped' | 'failed' | 'crashed';
  outcome: TrainingOutcome | null;
  epochsCompleted: number;
  globalStep: number;
  checkpoint: string | null;
  bestCheckpoint: string | null;
  validation: ValidationSummary | null;
  error: string | null;
}

export interface TrainingEstimate {
  backend: string;
  device: string;
  batchSize: number;
  stepsPerEpoch: number;
  trainCaptions: number;
  /** Measured on a few real steps of this configuration. */
  secondsPerStep: number;
  secondsPerEpoch: number;
  tokensPerSecond: number;
  parameters: number;
  warnings: string[];
}

/** What a form generator and a tuner need to know about RunConfig. */
export interface TrainingConfigSchema {
  /** JSON Schema (draft 2020-12) of a RunConfig as a user writes it: titles, descriptions, bounds, defaults. */
  jsonSchema: Record<string, unknown>;
  searchSpace: SearchDimension[];
  presets: RunPreset[];
}

/** Live updates for the dashboard: the run they belong to and the engine's event. */
export interface TrainingStartedEvent extends TrainingStarted {
  runId: number;
}
export interface TrainingStepEvent extends TrainingStep {
  runId: number;
}
export interface TrainingEpochEvent extends TrainingEpoch {
  runId: number;
}
