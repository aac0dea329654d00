/**
 * Plain data kept by the experiment store: runs, metrics, checkpoints,
 * artifacts, sample captions, evaluations, tuning studies and batch jobs.
 * These shapes cross the API unchanged, so they hold only serializable values.
 * Timestamps are ISO-8601 strings; ids are positive integers.
 */

export type JsonPrimitive = string | number | boolean | null;
export type JsonValue = JsonPrimitive | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

// ─── datasets ────────────────────────────────────────────────────────────────

export interface DatasetRecord {
  id: number;
  name: string;
  /** Absolute path of the dataset's root (folder or annotation file). */
  path: string;
  /** Reader that understands it, e.g. `coco`, `flickr8k`, `folder`, `shapes`. */
  format: string;
  /** Counts and vocabulary statistics the datasets page shows. */
  stats: JsonObject;
  createdAt: string;
  updatedAt: string;
}

// ─── runs ────────────────────────────────────────────────────────────────────

export const RUN_STATUSES = ['queued', 'running', 'completed', 'stopped', 'failed', 'crashed'] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

export interface RunRecord {
  id: number;
  name: string;
  status: RunStatus;
  /** The full training configuration the run was started with. */
  config: JsonObject;
  datasetId: number | null;
  /** The tuning trial this run belongs to, if any. */
  trialId: number | null;
  /**
   * The training task that moves this run through its life (owner,
   * heartbeat, progress). `status`, `error` and the times are kept in step
   * with it; null once that task was deleted (the run keeps its last status).
   */
  taskId: number | null;
  /** tfjs backend that trained it (`tensorflow`, `wasm`, `cpu`) and where. */
  backend: string | null;
  machine: string | null;
  notes: string;
  tags: string[];
  /** Why the run failed or crashed, in words. */
  error: string | null;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  /** Last sign of life from whoever runs its task (null once the task is deleted). */
  heartbeatAt: string | null;
  /** The newest checkpoint: where training resumes from. */
  lastCheckpoint: CheckpointRef | null;
}

export interface CheckpointRef {
  checkpointId: number;
  path: string;
  epoch: number;
  step: number;
}

/** Everything needed to continue a stopped or crashed run. */
export interface ResumePoint {
  runId: number;
  status: RunStatus;
  config: JsonObject;
  /** Absolute path of the newest checkpoint. */
  checkpointPath: string;
  /** Epochs completed when it was written; training continues with `epoch + 1`. */
  epoch: number;
  step: number;
}

/**
 * Metric keys are `<split>/<name>`. Training logs these under these names so
 * the runs table, the CLI and the compare page show them by default; any
 * other key is stored and charted too.
 */
export const HEADLINE_METRICS = ['train/loss', 'val/loss', 'val/bleu4', 'val/ciderD'] as const;

/** `min` when smaller is better (losses), `max` otherwise (BLEU, CIDEr). */
export type MetricGoal = 'min' | 'max';

export interface MetricValueAt {
  value: number;
  step: number;
  epoch: number;
}

export interface MetricSummary {
  key: string;
  goal: MetricGoal;
  best: MetricValueAt | null;
  last: MetricValueAt | null;
  count: number;
}

export interface RunWithMetrics extends RunRecord {
  /** One entry per requested metric key, in the order asked for. */
  metrics: MetricSummary[];
}

export interface RunList {
  runs: RunWithMetrics[];
  /** Runs matching the filter, before limit and offset. */
  total: number;
}

export interface RunDetail extends RunRecord {
  /** Best and last of every metric the run logged, sorted by key. */
  metrics: MetricSummary[];
  checkpointCount: number;
  artifactCount: number;
  sampleEpochs: number[];
}

// ─── metrics ─────────────────────────────────────────────────────────────────

export interface MetricPoint {
  step: number;
  epoch: number;
  value: number;
  /** Wall-clock time it was measured, milliseconds since 1970. */
  time: number;
}

export interface MetricInput {
  runId: number;
  key: string;
  step: number;
  epoch: number;
  value: number;
  /** Defaults to now. */
  time?: number;
}

export interface MetricSeries {
  runId: number;
  key: string;
  points: MetricPoint[];
  /** Points stored for this key in the requested range. */
  totalPoints: number;
  /** True when `points` is an LTTB reduction of the stored points. */
  downsampled: boolean;
}

/** A batch of freshly written points (the live dashboard's feed). */
export interface MetricBatch {
  runId: number;
  points: Array<MetricPoint & { key: string }>;
}

// ─── comparison ──────────────────────────────────────────────────────────────

export type CompareAxis = 'step' | 'epoch';

/** One metric of several runs on one shared x axis; `values[i][j]` is run i at `x[j]`. */
export interface AlignedSeries {
  key: string;
  axis: CompareAxis;
  x: number[];
  runIds: number[];
  values: Array<Array<number | null>>;
  /** True when steps were grouped into buckets (mean per bucket) to fit `maxPoints`. */
  bucketed: boolean;
}

export interface ConfigDifference {
  /** Dotted path into the config, e.g. `model.lstmUnits` or `augment.0`. */
  path: string;
  /** One value per compared run, in the runs' order; null where absent. */
  values: JsonPrimitive[];
  /** Ids of runs whose config has no value at this path. */
  missingIn: number[];
}

export interface RunComparison {
  runs: RunRecord[];
  series: AlignedSeries[];
  configDiff: ConfigDifference[];
}

// ─── checkpoints, artifacts, samples ─────────────────────────────────────────

export interface CheckpointRecord {
  id: number;
  runId: number;
  epoch: number;
  step: number;
  /** Absolute path (a file or a folder under the data directory). */
  path: string;
  sizeBytes: number;
  /** Validation metrics when it was written, e.g. `{ "val/loss": 2.1 }`. */
  metrics: Record<string, number>;
  isBest: boolean;
  createdAt: string;
}

export interface ArtifactRecord {
  id: number;
  runId: number;
  /** What it is: `vocabulary`, `model-package`, `plot`, `log`, ... */
  kind: string;
  name: string;
  path: string;
  sizeBytes: number;
  meta: JsonObject;
  createdAt: string;
}

export interface SampleCaption {
  id: number;
  runId: number;
  epoch: number;
  step: number;
  imageId: string;
  imagePath: string | null;
  caption: string;
  references: string[];
  createdAt: string;
}

// ─── evaluations ─────────────────────────────────────────────────────────────

export interface EvaluationRecord {
  id: number;
  runId: number | null;
  checkpointId: number | null;
  datasetId: number | null;
  split: string;
  /** Decoding used: strategy, beam size, length penalty, max length, ... */
  decoding: JsonObject;
  /** How each metric was computed (tokenizer, n, CIDEr-D sigma, ...). */
  metricDefinitions: JsonObject;
  aggregate: Record<string, number>;
  imageCount: number;
  createdAt: string;
}

export interface EvaluationItem {
  imageId: string;
  imagePath: string | null;
  caption: string;
  references: string[];
  scores: Record<string, number>;
}

// ─── tuning ──────────────────────────────────────────────────────────────────

/**
 * A study is `running` while its task is queued, running or stopping (it is
 * open: an executor works on it or may claim it), `completed` when its task
 * completed, `stopped` when it was cancelled, failed or crashed.
 */
export const STUDY_STATUSES = ['running', 'completed', 'stopped'] as const;
export type StudyStatus = (typeof STUDY_STATUSES)[number];

export interface StudyRecord {
  id: number;
  name: string;
  /** The metric the study optimises, e.g. `val/loss`. */
  objective: string;
  direction: 'minimize' | 'maximize';
  searchSpace: JsonObject;
  sampler: string;
  pruner: string;
  /** Base run config each trial's params are laid over. */
  baseConfig: JsonObject;
  status: StudyStatus;
  /** The study's task; its trials' tasks have it as parent. Null once deleted. */
  taskId: number | null;
  createdAt: string;
  updatedAt: string;
}

/** `pruned`: its task completed with `result.pruned`; `cancelled`: stopped before it finished. */
export const TRIAL_STATES = ['queued', 'running', 'completed', 'pruned', 'failed', 'cancelled', 'crashed'] as const;
export type TrialState = (typeof TRIAL_STATES)[number];

export interface TrialRecord {
  id: number;
  studyId: number;
  /** 0, 1, 2, ... within its study. */
  number: number;
  state: TrialState;
  params: JsonObject;
  /** Final objective value, once completed. */
  value: number | null;
  runId: number | null;
  /** The trial's task (null once deleted). */
  taskId: number | null;
  error: string | null;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  heartbeatAt: string | null;
}

export interface TrialIntermediate {
  step: number;
  value: number;
}

// ─── batch captioning ────────────────────────────────────────────────────────

export const BATCH_JOB_STATUSES = ['queued', 'running', 'completed', 'stopped', 'failed', 'crashed'] as const;
export type BatchJobStatus = (typeof BATCH_JOB_STATUSES)[number];

export interface BatchJobRecord {
  id: number;
  /** Folder of images captioned. */
  inputPath: string;
  /** Model package or checkpoint used. */
  modelPath: string;
  runId: number | null;
  decoding: JsonObject;
  status: BatchJobStatus;
  /** The job's task (null once deleted). */
  taskId: number | null;
  total: number;
  done: number;
  error: string | null;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  heartbeatAt: string | null;
}

export interface BatchResult {
  imagePath: string;
  caption: string | null;
  /** Log-probability or other confidence the decoder reports. */
  score: number | null;
  error: string | null;
  createdAt: string;
}

// ─── export and recovery ─────────────────────────────────────────────────────

/** `runs.export`: one self-contained JSON document. */
export interface RunExport {
  format: 'captioning-workbench.run';
  version: 1;
  exportedAt: string;
  run: RunRecord;
  metrics: Record<string, MetricPoint[]>;
  checkpoints: CheckpointRecord[];
  artifacts: ArtifactRecord[];
  samples: SampleCaption[];
  evaluations: Array<EvaluationRecord & { items: EvaluationItem[] }>;
}

/** What crash recovery marked crashed: every task, and the domain rows among them. */
export interface RecoveryReport {
  runs: number[];
  trials: number[];
  batchJobs: number[];
  studies: number[];
  /** Every task it crashed, of any kind, by id. */
  tasks: number[];
}

export interface RunDeleted {
  runId: number;
  filesRemoved: number;
}
