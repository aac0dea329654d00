/**
 * The experiment store's interface: what training, tuning, evaluation, batch
 * captioning, the datasets page and the API may ask of storage. SQLite
 * implements it today (sqliteStore.ts); a server database can implement it
 * later and must pass the same suite (test/helpers/storeContract.ts).
 *
 * Rules every implementation keeps:
 *
 * - Asynchronous everywhere, even where SQLite could answer at once, so a
 *   networked database fits the same calls.
 * - Atomic per call: a method either does all it says or nothing. Batch
 *   writes (`metrics.append`, `samples.add`, `evaluations.create`,
 *   `batchJobs.addResults`) commit all their rows or none.
 * - Missing things: `get` answers `null`; every other method that names a
 *   missing id throws `ApiError('not_found')` naming it, and writes nothing.
 *   Bad values (a non-finite metric, a negative step, a path outside the data
 *   directory, a forbidden status change) throw `ApiError('invalid_request')`
 *   or `ApiError('conflict')` naming the field, and write nothing.
 * - Idempotent where a retry or a resume may repeat a write: metrics per
 *   (run, key, step), trial intermediate values per (trial, step), samples per
 *   (run, epoch, image), checkpoints and artifacts per (run, path), batch
 *   results per (job, image path), datasets per path. Repeating replaces.
 * - Ordering: lists of runs are newest first (creation time, then id);
 *   series, checkpoints, samples and intermediate values are oldest first
 *   (step, then id); trials by number.
 * - Files: checkpoint and artifact paths must lie under the data directory;
 *   answers give absolute paths. Deleting a run removes its rows in one
 *   transaction and then its files (its folder `runs/<id>/` and every
 *   registered path), reporting how many were removed.
 * - Times are set by the store (its clock), except a metric's `time`, which
 *   the caller may give.
 * - Long work has one lifecycle: `tasks` (see `TaskStore`). A run, batch
 *   job, study and trial each point at their task (`taskId`), and their
 *   status, error and start and end times follow it in the same transaction
 *   as every task change. Their older status setters (`runs.setStatus`,
 *   `runs.heartbeat`, `batchJobs.setStatus`, `studies.setStatus`,
 *   `studies.setTrialState`, ...) remain as facades that move the task as the
 *   store's own owner (this process, worker `main`); new code claims, beats
 *   and finishes through `tasks` directly.
 */
import type {
  ArtifactRecord,
  BatchJobRecord,
  BatchJobStatus,
  BatchResult,
  CheckpointRecord,
  CompareAxis,
  AlignedSeries,
  DatasetRecord,
  EvaluationItem,
  EvaluationRecord,
  JsonObject,
  MetricBatch,
  MetricGoal,
  MetricInput,
  MetricPoint,
  MetricSeries,
  MetricSummary,
  RecoveryReport,
  ResumePoint,
  RunDeleted,
  RunRecord,
  RunStatus,
  SampleCaption,
  StudyRecord,
  StudyStatus,
  TrialIntermediate,
  TrialRecord,
  TrialState,
} from '../../shared/storeTypes';
import type { TaskKind, TaskOwner, TaskPlacement, TaskProgress, TaskRecord, TaskState, TaskSubject } from '../../shared/taskTypes';
import type { BatchReviewStore } from './batchReview';

/** The worker name the facades claim and finish tasks as (see the rules above). */
export const FACADE_WORKER = 'main';
import type { MetricWriter } from './metricWriter';

// ─── datasets ────────────────────────────────────────────────────────────────

export interface DatasetInput {
  name: string;
  /** Absolute path of the dataset root; the identity of a dataset. */
  path: string;
  format: string;
  stats?: JsonObject;
}

export interface DatasetStore {
  /** Registers a dataset, or updates name, format and stats of the one at `path`. */
  register(input: DatasetInput): Promise<DatasetRecord>;
  get(id: number): Promise<DatasetRecord | null>;
  getByPath(path: string): Promise<DatasetRecord | null>;
  /** All datasets, newest first. */
  list(): Promise<DatasetRecord[]>;
  updateStats(id: number, stats: JsonObject): Promise<DatasetRecord>;
  /** Runs and evaluations that used it keep their rows, with the link cleared. */
  delete(id: number): Promise<void>;
}

// ─── runs ────────────────────────────────────────────────────────────────────

export interface NewRun {
  /** Defaults to `run-<id>`. */
  name?: string;
  config: JsonObject;
  datasetId?: number | null;
  backend?: string | null;
  machine?: string | null;
  notes?: string;
  tags?: string[];
  /**
   * `queued` (default: its training task waits for an executor) or
   * `running` for a run this process trains at once (the task is claimed by
   * the store's owner, see the file rules).
   */
  status?: 'queued' | 'running';
  /** Params of the run's training task; default `{ runId: <the new run's id> }`. */
  taskParams?: JsonObject;
  /** Who may claim the run's task (`any` by default; ignored for `running`). */
  placement?: TaskPlacement;
}

export interface RunUpdate {
  name?: string;
  notes?: string;
  tags?: string[];
}

export interface StatusChange {
  /** Why it failed, crashed or stopped; cleared when it runs again. */
  error?: string | null;
  backend?: string | null;
  machine?: string | null;
}

export interface RunFilter {
  status?: RunStatus[];
  /** Runs carrying this tag. */
  tag?: string;
  /** Case-insensitive substring of name or notes. */
  search?: string;
  datasetId?: number;
  limit?: number;
  offset?: number;
}

export interface RunStore {
  /** Creates a run and its training task in one transaction. */
  create(input: NewRun): Promise<RunRecord>;
  get(id: number): Promise<RunRecord | null>;
  /** Newest first, with the total before limit and offset. */
  list(filter?: RunFilter): Promise<{ runs: RunRecord[]; total: number }>;
  /** Name, notes and tags only; tags are trimmed and de-duplicated. */
  update(id: number, update: RunUpdate): Promise<RunRecord>;
  /**
   * Facade over the run's task (new code uses `tasks`): `running` claims a
   * queued task, or resumes and claims a stopped, failed or crashed one;
   * `completed`, `stopped` and `failed` finish it (only while the store's
   * owner runs it; a queued run may be stopped, or ended at once);
   * `crashed` is the owner reporting that its engine died. A completed run
   * stays completed, and a crashed run's old owner can no longer report how
   * it ended (the task rules). Anything else throws `conflict`. Setting the
   * status a run already has is a no-op apart from `change`.
   */
  setStatus(id: number, status: RunStatus, change?: StatusChange): Promise<RunRecord>;
  /**
   * Facade: a heartbeat of the run's task from the store's owner (also
   * touching the trial the run belongs to); appending metrics counts as one
   * too, from whoever runs it. `conflict` when the task is not running or
   * someone else owns it.
   */
  heartbeat(id: number): Promise<void>;
  /** Refuses a queued or running run unless `force`; see the file rules. */
  delete(id: number, options?: { force?: boolean }): Promise<RunDeleted>;
  /** Where a stopped, failed or crashed run continues from; null without a checkpoint. */
  resumePoint(id: number): Promise<ResumePoint | null>;
  /** Every tag in use, sorted. */
  tags(): Promise<string[]>;
  /** The folder for this run's files (`<dataDir>/runs/<id>`), created if needed. */
  directory(id: number): Promise<string>;
}

// ─── metrics ─────────────────────────────────────────────────────────────────

export interface SeriesOptions {
  fromStep?: number;
  toStep?: number;
  /** More stored points than this are reduced with LTTB (first and last kept). */
  maxPoints?: number;
}

export interface MetricRequest {
  key: string;
  /** Defaults to `metricGoal(key)`. */
  goal?: MetricGoal;
}

export interface MetricStore {
  /**
   * Writes a batch atomically. Each point's run must exist; values must be
   * finite, steps and epochs non-negative integers. Touches the heartbeat of
   * each run and of its tuning trial. Calls the store's `onMetrics` hook once per run after commit.
   */
  append(points: MetricInput[]): Promise<void>;
  /** Keys a run logged, sorted. */
  keys(runId: number): Promise<string[]>;
  /** One key of one run, by step; reduced with LTTB above `maxPoints`. */
  series(runId: number, key: string, options?: SeriesOptions): Promise<MetricSeries>;
  /** Every point of every key, by step (for export). */
  all(runId: number): Promise<Record<string, MetricPoint[]>>;
  /**
   * Best (by goal; the earliest step wins a tie) and last (highest step) value
   * of each requested key for each run. Runs without the key get nulls.
   */
  summaries(runIds: number[], keys: MetricRequest[]): Promise<Map<number, MetricSummary[]>>;
  /** Best and last of every key a run logged, sorted by key. */
  summaryOf(runId: number): Promise<MetricSummary[]>;
  /**
   * One key of several runs on a shared x axis. `epoch`: the last value each
   * run logged in each epoch. `step`: exact steps when their union fits in
   * `maxPoints`, else equal-width step buckets holding each run's mean.
   */
  aligned(runIds: number[], key: string, axis: CompareAxis, maxPoints: number): Promise<AlignedSeries>;
}

// ─── checkpoints and artifacts ───────────────────────────────────────────────

export interface CheckpointInput {
  runId: number;
  epoch: number;
  step: number;
  /** Absolute, or relative to the data directory; must lie under it. */
  path: string;
  metrics?: Record<string, number>;
  /** Marks it the run's best, clearing the mark elsewhere in the run. */
  isBest?: boolean;
}

export interface ArtifactInput {
  runId: number;
  kind: string;
  /** Defaults to the file name. */
  name?: string;
  path: string;
  meta?: JsonObject;
}

export interface CheckpointStore {
  /** Records a checkpoint written to disk (its size is measured now). */
  add(input: CheckpointInput): Promise<CheckpointRecord>;
  /** Oldest first. */
  list(runId: number): Promise<CheckpointRecord[]>;
  /** The one with the highest step (then the newest id). */
  latest(runId: number): Promise<CheckpointRecord | null>;
  /** Forgets a checkpoint and, unless `keepFiles`, deletes its file or folder. */
  remove(checkpointId: number, options?: { keepFiles?: boolean }): Promise<void>;
}

export interface ArtifactStore {
  add(input: ArtifactInput): Promise<ArtifactRecord>;
  /** Oldest first. */
  list(runId: number): Promise<ArtifactRecord[]>;
}

// ─── sample captions ─────────────────────────────────────────────────────────

export interface SampleInput {
  imageId: string;
  imagePath?: string | null;
  caption: string;
  references?: string[];
}

export interface SampleStore {
  /** The captions the model wrote for fixed images at the end of an epoch. */
  add(runId: number, epoch: number, step: number, samples: SampleInput[]): Promise<void>;
  /** By epoch, then insertion; `epoch` narrows to one epoch. */
  list(runId: number, options?: { epoch?: number; limit?: number }): Promise<SampleCaption[]>;
  /** Epochs that have samples, ascending. */
  epochs(runId: number): Promise<number[]>;
}

// ─── evaluations ─────────────────────────────────────────────────────────────

export interface EvaluationInput {
  runId?: number | null;
  checkpointId?: number | null;
  datasetId?: number | null;
  split: string;
  decoding: JsonObject;
  metricDefinitions: JsonObject;
  aggregate: Record<string, number>;
  items: EvaluationItem[];
}

export interface EvaluationStore {
  /** Stores the aggregate and every item in one transaction. */
  create(input: EvaluationInput): Promise<EvaluationRecord>;
  get(id: number): Promise<EvaluationRecord | null>;
  /** Newest first; `runId` narrows to one run. */
  list(filter?: { runId?: number }): Promise<EvaluationRecord[]>;
  /** By image id. */
  items(id: number, options?: { limit?: number; offset?: number }): Promise<EvaluationItem[]>;
  delete(id: number): Promise<void>;
}

// ─── tuning ──────────────────────────────────────────────────────────────────

export interface StudyInput {
  name: string;
  objective: string;
  direction: 'minimize' | 'maximize';
  searchSpace: JsonObject;
  sampler: string;
  pruner: string;
  baseConfig: JsonObject;
  /** Params of the study's task; default `{ studyId: <the new study's id> }`. */
  taskParams?: JsonObject;
  /** Who may claim the study's task (`any` by default). */
  placement?: TaskPlacement;
}

export interface TrialResult {
  value?: number | null;
  error?: string | null;
}

export interface StudyStore {
  /**
   * Creates the study and its task (queued: an executor claims it; the study
   * counts as `running`, that is open, meanwhile). Names are unique: a second
   * study with the same name is a `conflict`.
   */
  create(input: StudyInput): Promise<StudyRecord>;
  get(id: number): Promise<StudyRecord | null>;
  getByName(name: string): Promise<StudyRecord | null>;
  /** Newest first. */
  list(): Promise<StudyRecord[]>;
  /** Facade over the study's task: `stopped` cancels it, `completed` ends it, `running` queues it again. */
  setStatus(id: number, status: StudyStatus): Promise<StudyRecord>;
  /** With its trials, their values and all their tasks; runs of its trials are kept. */
  delete(id: number): Promise<void>;

  /**
   * Adds a trial with the next number of its study (0, 1, 2, ... without gaps
   * or repeats, even when several processes add at once) and its task
   * (params `{ trialId, studyId }`, parent: the study's task). `running`
   * (default) claims that task for the store's owner.
   */
  createTrial(studyId: number, params: JsonObject, state?: 'queued' | 'running'): Promise<TrialRecord>;
  getTrial(id: number): Promise<TrialRecord | null>;
  /**
   * Starts a trial that was created `queued` (enqueued with some parameters
   * fixed): replaces its params with the full set and claims its task for the
   * store's owner, in one transaction. A trial that is not queued any more
   * (another process started or cancelled it) is a `conflict`.
   */
  startQueuedTrial(id: number, params: JsonObject): Promise<TrialRecord>;
  /** By number. */
  trials(studyId: number): Promise<TrialRecord[]>;
  /**
   * Facade over the trial's task, like `RunStore.setStatus`: `pruned` is the
   * task completed with `result.pruned`; `value` is kept on the trial.
   * Anything the task rules forbid is a `conflict`.
   */
  setTrialState(id: number, state: TrialState, result?: TrialResult): Promise<TrialRecord>;
  attachRun(trialId: number, runId: number): Promise<TrialRecord>;
  /** Idempotent per step; must be finite. Touches the heartbeat of the trial's task. */
  reportIntermediate(trialId: number, step: number, value: number): Promise<void>;
  /** By step. */
  intermediates(trialId: number): Promise<TrialIntermediate[]>;
  /** Facade: a heartbeat of the trial's task from the store's owner. */
  heartbeat(trialId: number): Promise<void>;
}

// ─── batch captioning ────────────────────────────────────────────────────────

export interface BatchJobInput {
  inputPath: string;
  modelPath: string;
  runId?: number | null;
  decoding: JsonObject;
  total: number;
  /** Params of the job's batch task; default `{ jobId: <the new job's id> }`. */
  taskParams?: JsonObject;
  /** Who may claim the job's task (`any` by default). */
  placement?: TaskPlacement;
}

export interface BatchResultInput {
  imagePath: string;
  caption: string | null;
  score?: number | null;
  error?: string | null;
}

/** The next shard of a job's listing: consecutive images, in listing order. */
export interface BatchShardInput {
  /** 0, 1, 2, … in listing order. */
  shard: number;
  /** Ordinal of its first image in the job's listing (images and unreadable folders count). */
  firstOrdinal: number;
  /** Absolute image paths, in listing order. */
  images: string[];
}

/** Where planning a job's listing got to: entries of the listing consumed, ordinals given out, and what was passed over since the last step. */
export interface BatchPlanStep {
  listed: number;
  ordinals: number;
  ignored: number;
  excluded: number;
}

export interface BatchPlan {
  /** Entries of the listing consumed so far (images, ignored and excluded files, unreadable folders). */
  listed: number;
  /** Ordinals given out so far (images and unreadable folders). */
  ordinals: number;
  /** The listing was planned to its end. */
  planned: boolean;
  shards: number;
}

export interface BatchShardRecord {
  jobId: number;
  shard: number;
  /** Null once its task was deleted. */
  taskId: number | null;
  firstOrdinal: number;
  size: number;
  state: TaskState | null;
  attempts: number;
  error: string | null;
}

export interface BatchJobStore {
  /** Creates the job and its queued batch task in one transaction. */
  create(input: BatchJobInput): Promise<BatchJobRecord>;
  get(id: number): Promise<BatchJobRecord | null>;
  /** Newest first. */
  list(): Promise<BatchJobRecord[]>;
  /** Facade over the job's task, exactly like `RunStore.setStatus`. */
  setStatus(id: number, status: BatchJobStatus, change?: { error?: string | null }): Promise<BatchJobRecord>;
  /** Idempotent per image path; updates `done`; touches the heartbeat of the job's task. */
  addResults(jobId: number, results: BatchResultInput[]): Promise<void>;
  /** By image path. */
  results(jobId: number, options?: { limit?: number; offset?: number }): Promise<BatchResult[]>;
  /** Image paths already captioned or failed, for a resumed job to skip. */
  donePaths(jobId: number): Promise<string[]>;
  /** Facade: a heartbeat of the job's task from the store's owner. */
  heartbeat(jobId: number): Promise<void>;
  /** With its results, its shards, its task and its shards' tasks. */
  delete(id: number): Promise<void>;

  /**
   * Adds the next shard of a job with its queued task (kind `batch`, params
   * `{ jobId, shard }`, parent: the job's task) and moves the plan's cursor,
   * in one transaction. A shard already there is left as it is (false), so a
   * planner that crashed and lists again adds nothing twice.
   */
  addShard(jobId: number, shard: BatchShardInput, step: BatchPlanStep): Promise<boolean>;
  /** The listing is planned to its end: `step.ordinals` is the job's total. */
  finishPlan(jobId: number, step: BatchPlanStep): Promise<void>;
  plan(jobId: number): Promise<BatchPlan>;
  /** By shard number, with their tasks' states. */
  shards(jobId: number): Promise<BatchShardRecord[]>;
  /** One shard's images (absolute paths in listing order) and its first ordinal. */
  shardImages(jobId: number, shard: number): Promise<{ firstOrdinal: number; images: string[] }>;
}

// ─── tasks ───────────────────────────────────────────────────────────────────

export interface NewTask {
  kind: TaskKind;
  title: string;
  params: JsonObject;
  subject?: TaskSubject | null;
  parentId?: number | null;
  retryOf?: number | null;
  /** Who may claim it: `any` (default) or `workers` only; see the rules on `TaskStore`. */
  placement?: TaskPlacement;
}

export interface ClaimOptions {
  /**
   * The placements this claimer takes: `['any']` (default: a workbench
   * window, serve mode, a one-shot command) or `['any', 'workers']` (a
   * `captioner worker`).
   */
  placements?: readonly TaskPlacement[];
}

export interface ResumeOptions {
  /** Queue it with this placement; omitted keeps the one it had. */
  placement?: TaskPlacement;
}

export interface TaskFilter {
  states?: TaskState[];
  kinds?: TaskKind[];
  parentId?: number;
  subject?: TaskSubject;
  /** Newest first; default 200. */
  limit?: number;
}

export interface TaskEnd {
  /** `crashed`: the owner saw the process doing the work die (its engine), so nothing will resume it by itself. */
  state: 'completed' | 'failed' | 'cancelled' | 'crashed';
  result?: JsonObject | null;
  error?: string | null;
}

/** What the owner learns from a heartbeat. */
export interface HeartbeatAnswer {
  /** Someone asked the task to stop: finish the current step, save, and end as `cancelled`. */
  stopRequested: boolean;
}

/**
 * The lifecycle every long job shares. Rules (the contract suite checks each):
 *
 * - States: queued → running → completed | failed | cancelled;
 *   running → stopping → cancelled | completed | failed;
 *   queued → cancelled (cancelled before it started: nobody owns it);
 *   running | stopping → crashed (`recoverStale`, or the owner when the
 *   process doing the work, e.g. its engine, died under it);
 *   failed | cancelled | crashed → queued (`resume`, same row, attempts kept).
 *   Anything else throws `conflict` naming both states and writes nothing.
 * - Claiming is a compare-and-set on `state = 'queued'`: of any number of
 *   executors (processes, machines) claiming at once, exactly one gets a
 *   given task; the others get another task or null. Claiming sets the
 *   owner, `startedAt` (first time), the heartbeat, and attempts + 1.
 *   Oldest queued first (creation time, then id).
 * - Placement: a task is queued for `any` executor (default) or for
 *   `workers` only. `claim` takes only the placements the claimer names
 *   (default `any`), so a workbench sharing the store never claims a task
 *   queued for the workers, while a `captioner worker` claims both.
 *   `claimById` is for a task the caller queued itself and ignores
 *   placement. `resume` keeps the placement unless given another; `place`
 *   changes it while the task is still queued (`conflict` otherwise).
 * - Only the owner moves a running or stopping task: `heartbeat` (which
 *   carries progress) and `finish` from any other owner (or after
 *   `recoverStale` took the task away) throw `conflict`, so a worker presumed
 *   dead cannot overwrite what happened since.
 * - Anyone may ask a task to stop (`requestStop`): a queued task becomes
 *   cancelled at once; a running one becomes stopping and its owner learns it
 *   from its next heartbeat; a finished one is left as it is (false).
 * - `recoverStale` marks crashed every running or stopping task whose
 *   heartbeat is older than the limit, or whose owner is a process on this
 *   host that no longer exists, with the reason in `error` (host, pid, and
 *   how long it has been silent). It returns them so each kind's retry rule
 *   can run. It never touches queued or finished tasks.
 * - Nothing here assumes one process: every transition is one atomic
 *   statement or transaction on the row, safe under concurrent executors
 *   sharing the database.
 * - `list` is newest first; `queuePosition` is set for queued tasks only.
 * - A task's domain row (run, batch job, study, trial) follows each change
 *   in the same transaction; `onTaskChanged` (and `onRunChanged` for runs)
 *   fire after the commit, for creation and every change of state, not for
 *   heartbeats.
 */
export interface TaskStore {
  create(input: NewTask): Promise<TaskRecord>;
  get(id: number): Promise<TaskRecord | null>;
  list(filter?: TaskFilter): Promise<TaskRecord[]>;
  /** Claims the oldest queued task of one of `kinds` (and of a placement in `options`) for `owner`; null when none waits. */
  claim(owner: TaskOwner, kinds: readonly TaskKind[], options?: ClaimOptions): Promise<TaskRecord | null>;
  /** Claims this queued task for `owner`; null when it is not queued any more (someone else took it, or it was cancelled). */
  claimById(id: number, owner: TaskOwner): Promise<TaskRecord | null>;
  /** A sign of life, optionally with progress (null or omitted keeps the last). */
  heartbeat(id: number, owner: TaskOwner, progress?: TaskProgress | null): Promise<HeartbeatAnswer>;
  /**
   * Ends a task its owner ran. `cancelled` is for a stop the owner honoured;
   * `crashed` for work whose process (its engine) died under it.
   * `result` (when given) replaces the stored one, keeping its
   * `previousErrors`; `error` defaults to the stop reason for `cancelled`,
   * `failed` and `crashed`, to none for `completed`.
   */
  finish(id: number, owner: TaskOwner, end: TaskEnd): Promise<TaskRecord>;
  /** See the rules: queued → cancelled, running → stopping. True when something changed. */
  requestStop(id: number, reason?: string): Promise<boolean>;
  /** failed | cancelled | crashed → queued, same row; the error is cleared and kept in `result.previousErrors`. */
  resume(id: number, options?: ResumeOptions): Promise<TaskRecord>;
  /** Changes who may claim a queued task; `conflict` once it is claimed or finished. */
  place(id: number, placement: TaskPlacement): Promise<TaskRecord>;
  /** See the rules. */
  recoverStale(options: { staleAfterMs: number; now?: number }): Promise<TaskRecord[]>;
  /** Removes finished tasks (and only those); their domain rows stay. */
  delete(id: number): Promise<void>;
}

// ─── the whole store ─────────────────────────────────────────────────────────

export interface RecoveryOptions {
  /** A running run, trial or job silent this long is crashed. Default: the store's. */
  staleAfterMs?: number;
}

export interface ExperimentStore {
  readonly dataDir: string;
  /** `sqlite`, later e.g. `postgres`. */
  readonly kind: string;
  readonly datasets: DatasetStore;
  readonly runs: RunStore;
  readonly metrics: MetricStore;
  /**
   * Buffered metric appends for training loops: `write` never blocks on the
   * database; rows are committed every N rows, every T ms and on `close`.
   */
  readonly metricWriter: MetricWriter;
  readonly checkpoints: CheckpointStore;
  readonly artifacts: ArtifactStore;
  readonly samples: SampleStore;
  readonly evaluations: EvaluationStore;
  readonly studies: StudyStore;
  readonly batchJobs: BatchJobStore;
  /** The lifecycle of every long job (see `TaskStore`). */
  readonly tasks: TaskStore;
  /** Batch captioning's options, per-image outcomes, confidence, reviewed captions and outputs. */
  readonly batchReview: BatchReviewStore;
  /**
   * `tasks.recoverStale` with the store's limit, reporting the tasks it
   * crashed and the runs, trials, batch jobs and studies among them.
   * Everything they logged stays; queued work is left for an executor to
   * claim. Runs at open and from the watchdog.
   */
  recoverInterrupted(options?: RecoveryOptions): Promise<RecoveryReport>;
  /** Flushes the metric writer, stops the watchdog and closes the database. Idempotent. */
  close(): Promise<void>;
}

/** Called after the store committed a change (the workbench forwards them as events). */
export interface StoreHooks {
  onRunChanged?(run: RunRecord): void;
  onRunDeleted?(runId: number): void;
  onMetrics?(batch: MetricBatch): void;
  onRecovered?(report: RecoveryReport): void;
  /** A task was created or changed state (not for heartbeats). */
  onTaskChanged?(task: TaskRecord): void;
  /** A finished task was deleted, or went with its run, batch job or study. */
  onTaskDeleted?(taskId: number): void;
  /** A buffered metric flush failed; the message names the run. */
  onError?(message: string): void;
}
