/**
 * What a kind of task provides to the task runtime, and what the runtime
 * gives each running task. One runtime (src/main/tasks/runtime.ts) claims,
 * heartbeats, reports progress, stops, recovers and resumes every kind;
 * a kind only says how to read its parameters, how to run, and what happens
 * after a crash.
 */
import type { JsonObject } from '../../shared/storeTypes';
import type { TaskKind, TaskRecord } from '../../shared/taskTypes';

/** Progress as a task reports it; the runtime adds throughput and ETA from the history of `done`. */
export interface ProgressUpdate {
  stage: string;
  done: number;
  total: number | null;
  /** What `done` counts: `steps`, `images`, `trials`, ... */
  unit: string;
  message?: string;
}

export interface TaskContext<P> {
  readonly task: TaskRecord;
  readonly params: P;
  /**
   * Aborted when someone asks the task to stop (the runtime learns it from a
   * heartbeat) or the workbench shuts down. Finish the current step, save
   * what is needed to resume, and return or throw `ApiError('cancelled')`.
   */
  readonly signal: AbortSignal;
  /** Cheap to call often: stored and broadcast at most a few times a second. */
  progress(update: ProgressUpdate): void;
}

/** What a kind does after its task crashed (its process died or went silent). */
export type CrashRule =
  /** Leave it crashed; the user may resume it (training: from its last checkpoint). */
  | 'manual'
  /** Queue the same task again at once; the work continues where it stopped (batch jobs). */
  | 'resume'
  /** Queue a new task with the same params once; the crashed one keeps its history (trials). */
  | 'retry-once'
  /** Nothing to resume; it stays crashed (evaluation, synthesis). */
  | 'none';

/** `R` is stored as the task's JSON result (plain data: no classes, no undefined-only fields). */
export interface TaskHandler<P = unknown, R extends object = object> {
  readonly kind: TaskKind;
  /** Validates stored params (zod); throws a named error for a bad row. */
  parse(params: JsonObject): P;
  run(context: TaskContext<P>): Promise<R>;
  readonly onCrash: CrashRule;
  /** Called once when a task of this kind was found crashed, before its crash rule: repair what a kill can leave half-written. */
  recovered?(task: TaskRecord): Promise<void>;
}

/**
 * Thrown by a task that honoured a stop request after saving what it needs
 * to continue: the task ends `cancelled` (resumable), keeping `result`.
 */
export class StoppedEarly extends Error {
  constructor(
    readonly result: JsonObject,
    reason = 'Stopped on request.',
  ) {
    super(reason);
    this.name = 'StoppedEarly';
  }
}
