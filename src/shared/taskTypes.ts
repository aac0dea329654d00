/**
 * Tasks: the one lifecycle of every long piece of work (training, evaluation,
 * Shapes synthesis, dataset import and verification, batch captioning,
 * tuning studies and their trials). A task is a row in the experiment store;
 * runs, batch jobs and studies keep their own tables and point at their task.
 * The rules of who may move a task from which state to which are written on
 * `TaskStore` (src/main/store/storage.ts).
 */
import type { JsonObject } from './storeTypes';

export const TASK_KINDS = ['training', 'evaluation', 'synthesis', 'import', 'batch', 'study', 'trial'] as const;
export type TaskKind = (typeof TASK_KINDS)[number];

export const TASK_STATES = ['queued', 'running', 'stopping', 'completed', 'failed', 'cancelled', 'crashed'] as const;
export type TaskState = (typeof TASK_STATES)[number];

/** States a task never leaves by itself; only a resume or retry starts it again. */
export const FINAL_TASK_STATES = ['completed', 'failed', 'cancelled', 'crashed'] as const satisfies readonly TaskState[];
export type FinalTaskState = (typeof FINAL_TASK_STATES)[number];

export function isFinalTaskState(state: TaskState): state is FinalTaskState {
  return (FINAL_TASK_STATES as readonly TaskState[]).includes(state);
}

/**
 * Who may claim a queued task: `any` executor sharing the store (the app's
 * and serve mode's own engine included), or `workers` only (`captioner
 * worker` processes), so that a run queued for the workers is never taken
 * by a workbench that happens to share the store.
 */
export const TASK_PLACEMENTS = ['any', 'workers'] as const;
export type TaskPlacement = (typeof TASK_PLACEMENTS)[number];

/** Who runs a task: a process on a host. `worker` names the executor (one process may run several). */
export interface TaskOwner {
  host: string;
  pid: number;
  worker: string;
}

export interface TaskProgress {
  /** What it is doing now, e.g. `epoch 3/10`, `captioning`, `verifying images`. */
  stage: string;
  done: number;
  total: number | null;
  /** What `done` counts: `steps`, `images`, `trials`, ... */
  unit: string;
  /** Units per second over the recent past. */
  throughput: number | null;
  etaSeconds: number | null;
  message?: string;
}

/** The domain row a task works for, so the UI can link to what it produces. */
export interface TaskSubject {
  type: 'run' | 'evaluation' | 'dataset' | 'batchJob' | 'study' | 'trial';
  id: number;
}

export interface TaskRecord {
  id: number;
  kind: TaskKind;
  title: string;
  state: TaskState;
  /** Everything an executor needs to run it, on any machine sharing the store. */
  params: JsonObject;
  subject: TaskSubject | null;
  /** A trial's study task, for example. */
  parentId: number | null;
  /** The task this one retries after it crashed (its history stays there). */
  retryOf: number | null;
  /** Who may claim it while it is queued (see `TaskPlacement`). */
  placement: TaskPlacement;
  owner: TaskOwner | null;
  heartbeatAt: string | null;
  progress: TaskProgress | null;
  result: JsonObject | null;
  /** Why it failed, crashed or was cancelled, in words. */
  error: string | null;
  /** Times it has been claimed (a resume counts). */
  attempts: number;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  /** For a queued task: how many queued tasks of any kind wait before it (0 = next). */
  queuePosition: number | null;
}

/** Live progress of a running task (`task.progress`), a few times a second at most. */
export interface TaskProgressEvent {
  taskId: number;
  kind: TaskKind;
  subject: TaskSubject | null;
  progress: TaskProgress;
}
