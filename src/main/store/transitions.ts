/**
 * The allowed status changes of runs, batch jobs and trials. Resuming (or
 * training a finished run further) is a change back to `running`; a crashed one may still report how it ended, in
 * case its engine was only slow, not dead.
 */
import { ApiError } from '../../shared/errors';
import type { BatchJobStatus, RunStatus, TrialState } from '../../shared/storeTypes';

const RUN_TRANSITIONS: Record<RunStatus, readonly RunStatus[]> = {
  queued: ['running', 'stopped', 'failed', 'crashed'],
  running: ['completed', 'stopped', 'failed', 'crashed'],
  stopped: ['running'],
  failed: ['running'],
  crashed: ['running', 'completed', 'stopped', 'failed'],
  // Training a finished run for more epochs continues it too.
  completed: ['running'],
};

const TRIAL_TRANSITIONS: Record<TrialState, readonly TrialState[]> = {
  queued: ['running', 'failed', 'crashed'],
  running: ['completed', 'pruned', 'failed', 'crashed'],
  crashed: ['running', 'completed', 'pruned', 'failed'],
  completed: [],
  pruned: [],
  failed: [],
};

export const TERMINAL_RUN_STATUSES: readonly RunStatus[] = ['completed', 'stopped', 'failed', 'crashed'];

function check<S extends string>(table: Record<S, readonly S[]>, what: string, from: S, to: S): void {
  if (from === to) return;
  if (!table[from].includes(to)) {
    const allowed = table[from].length ? table[from].join(', ') : 'nothing (it is final)';
    throw new ApiError('conflict', `${what} is ${from} and cannot become ${to}; from ${from} it can become ${allowed}.`);
  }
}

export function checkRunTransition(what: string, from: RunStatus, to: RunStatus): void {
  check(RUN_TRANSITIONS, what, from, to);
}

export function checkBatchTransition(what: string, from: BatchJobStatus, to: BatchJobStatus): void {
  check(RUN_TRANSITIONS, what, from, to);
}

export function checkTrialTransition(what: string, from: TrialState, to: TrialState): void {
  check(TRIAL_TRANSITIONS, what, from, to);
}
