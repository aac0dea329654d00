/**
 * The task lifecycle as data, shared by every store implementation: which
 * state may follow which, and what status a run, batch job, study or trial
 * shows for the state of its task. Plain functions, no database.
 */
import { ApiError } from '../../shared/errors';
import type { BatchJobStatus, JsonObject, RunStatus, StudyStatus, TrialState } from '../../shared/storeTypes';
import type { TaskState } from '../../shared/taskTypes';

/** The rules on `TaskStore` (storage.ts) as a table. */
export const TASK_TRANSITIONS: Readonly<Record<TaskState, readonly TaskState[]>> = {
  queued: ['running', 'cancelled'],
  running: ['stopping', 'completed', 'failed', 'cancelled', 'crashed'],
  stopping: ['completed', 'failed', 'cancelled', 'crashed'],
  completed: [],
  failed: ['queued'],
  cancelled: ['queued'],
  crashed: ['queued'],
};

/** Where an owner is working: only these states have one, and only these can crash. */
export const LIVE_TASK_STATES = ['running', 'stopping'] as const satisfies readonly TaskState[];

export function isLive(state: TaskState): boolean {
  return state === 'running' || state === 'stopping';
}

/** Throws `conflict` naming both states unless `from → to` is allowed. */
export function checkTaskTransition(what: string, from: TaskState, to: TaskState): void {
  if (TASK_TRANSITIONS[from].includes(to)) return;
  throw transitionConflict(what, from, to);
}

export function transitionConflict(what: string, from: string, to: string, allowed?: readonly string[]): ApiError {
  const next = allowed ?? (TASK_TRANSITIONS as Record<string, readonly string[]>)[from] ?? [];
  const options = next.length ? next.join(', ') : 'nothing (it is final)';
  return new ApiError('conflict', `${what} is ${from} and cannot become ${to}; from ${from} it can become ${options}.`);
}

// ─── domain statuses derived from the task ───────────────────────────────────

/** A run's status for its task's state. */
export function runStatusOf(state: TaskState): RunStatus {
  switch (state) {
    case 'queued':
      return 'queued';
    case 'running':
    case 'stopping':
      return 'running';
    case 'completed':
      return 'completed';
    case 'cancelled':
      return 'stopped';
    case 'failed':
      return 'failed';
    case 'crashed':
      return 'crashed';
  }
}

/** Batch jobs show the same statuses as runs. */
export function batchStatusOf(state: TaskState): BatchJobStatus {
  return runStatusOf(state);
}

/** A trial's state; a completed trial task whose result says `pruned` is a pruned trial. */
export function trialStateOf(state: TaskState, result: JsonObject | null): TrialState {
  switch (state) {
    case 'queued':
      return 'queued';
    case 'running':
    case 'stopping':
      return 'running';
    case 'completed':
      return result?.pruned === true ? 'pruned' : 'completed';
    case 'cancelled':
      return 'cancelled';
    case 'failed':
      return 'failed';
    case 'crashed':
      return 'crashed';
  }
}

/** A study is open (`running`) until its task ends; see STUDY_STATUSES. */
export function studyStatusOf(state: TaskState): StudyStatus {
  switch (state) {
    case 'queued':
    case 'running':
    case 'stopping':
      return 'running';
    case 'completed':
      return 'completed';
    case 'cancelled':
    case 'failed':
    case 'crashed':
      return 'stopped';
  }
}
