/**
 * Batch captioning of a folder: what a job is asked to do, what it records
 * per image, and what the API answers. Plain serializable data.
 */
import type { CheckpointChoice, DecodingSettings } from './inferenceTypes';

/** What to do with an image whose caption file already exists. */
export type ExistingPolicy = 'skip' | 'overwrite' | 'append';
export const EXISTING_POLICIES = ['skip', 'overwrite', 'append'] as const satisfies readonly ExistingPolicy[];

export interface SidecarOptions {
  /** Extension of the caption file beside each image, e.g. `.txt`. */
  ext: string;
  prefix: string;
  suffix: string;
  existing: ExistingPolicy;
}

/** Where captions go; any combination. Paths are absolute. */
export interface BatchOutputs {
  sidecar: SidecarOptions | null;
  csv: string | null;
  jsonl: string | null;
  coco: string | null;
}

export interface BatchInput {
  /** Absolute folder path. */
  folder: string;
  recursive: boolean;
  include: string[];
  exclude: string[];
}

/** An imported model package (by name) or package folder, or a run's checkpoint used as it is. */
export type BatchModelChoice = { package: string } | { runId: number; checkpoint: CheckpointChoice };

/** What the engine loads: a package folder or a checkpoint folder. */
export type BatchModelSource = { kind: 'package'; dir: string } | { kind: 'checkpoint'; path: string };

export interface BatchJobOptions {
  input: BatchInput;
  model: BatchModelChoice;
  decoding: Partial<DecodingSettings>;
  outputs: BatchOutputs;
  batchSize: number;
  /** Images per shard, the unit that processes sharing the store claim (default 500; older jobs have none). */
  shardSize?: number;
}

/** One image's outcome. `skipped`: its caption file existed and the policy said skip. */
export type BatchItemOutcome = 'captioned' | 'failed' | 'skipped';

export interface BatchItem {
  /** Absolute path. */
  path: string;
  /** Path relative to the job's folder, with `/`. */
  relativePath: string;
  outcome: BatchItemOutcome;
  /** The model's caption (null when failed or skipped). */
  caption: string | null;
  /** The caption after review, when someone edited it. */
  editedCaption: string | null;
  /** Mean log-probability per generated token (words and the closing <end>); higher is surer. */
  confidence: number | null;
  logProb: number | null;
  /** Why it failed or was skipped. */
  error: string | null;
}

export interface BatchCounts {
  /** Images the selection holds (null until the listing finished counting). */
  total: number | null;
  captioned: number;
  skippedExisting: number;
  failed: number;
  /** Files that are not images the workbench reads. */
  ignored: number;
  /** Images the include/exclude globs left out. */
  excluded: number;
}

export type BatchJobState = 'queued' | 'running' | 'completed' | 'stopped' | 'failed' | 'crashed';

export interface BatchOutputPaths {
  sidecars: number;
  csv: string | null;
  jsonl: string | null;
  coco: string | null;
}

export interface BatchJobSummary {
  id: number;
  status: BatchJobState;
  /** The job's task on the task runtime (follow it for state, progress with throughput and ETA). */
  taskId: number | null;
  options: BatchJobOptions;
  /** The package or checkpoint folder that produced the captions. */
  modelPath: string;
  /** A short name of the model for outputs (package name, or `run 3 best`). */
  modelLabel: string;
  decoding: DecodingSettings | null;
  counts: BatchCounts;
  outputs: BatchOutputPaths;
  error: string | null;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
}

export interface BatchProgress {
  jobId: number;
  /** Images done in total (captioned, skipped and failed), this run and earlier ones. */
  done: number;
  total: number | null;
  imagesPerSecond: number | null;
  etaSeconds: number | null;
  counts: BatchCounts;
}

export type BatchSort = 'path' | 'confidence-asc' | 'confidence-desc';

export interface BatchItemsPage {
  items: BatchItem[];
  /** Items matching the filter, before limit and offset. */
  total: number;
}

export interface BatchPreview {
  modelPath: string;
  decoding: DecodingSettings;
  /** The images the job would caption first (captioned or failed), then the first ones the skip policy passed over (outcome `skipped`). */
  items: BatchItem[];
  counts: BatchCounts;
  /** Of the previewed images, those whose caption file exists (the `overwrite` or `append` policy will change it). */
  existingCaptionFiles: string[];
}

/** The final line of `captioner batch --json`. */
export interface BatchJobResult {
  jobId: number;
  status: BatchJobState;
  counts: BatchCounts;
  outputs: BatchOutputPaths;
  /** Images captioned in this session (a resumed job counts only the remaining ones). */
  captionedNow: number;
  seconds: number;
}

export type { CheckpointChoice, DecodingSettings };
