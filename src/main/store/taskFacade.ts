/**
 * The older status setters (`runs.setStatus`, `batchJobs.setStatus`,
 * `studies.setStatus`, `studies.setTrialState`) expressed as task
 * transitions, shared by all four. They act as the store's own owner
 * (`context.taskOwner`, this process, worker `main`), so code that creates a
 * run `running` and later sets it `completed` keeps working; a task claimed
 * by any other worker can only be moved through `store.tasks`.
 *
 *   running:    queued → claimed; failed | cancelled | crashed → resumed and
 *               claimed (studies: only resumed, an executor claims them);
 *               running | stopping → nothing to do.
 *   completed, failed, cancelled:
 *               running | stopping → finished (owner only); queued →
 *               cancelled directly, or claimed and finished at once.
 *   crashed:    running | stopping → finished as crashed by its owner (its
 *               engine died).
 *   Anything else is a `conflict` naming both statuses.
 */
import { ApiError } from '../../shared/errors';
import type { JsonObject, RunStatus } from '../../shared/storeTypes';
import type { TaskOwner } from '../../shared/taskTypes';
import type { Changes } from './changes';
import type { SqliteTaskStore } from './tasks';
import { isLive } from './taskStates';

export type FacadeTarget = 'running' | 'completed' | 'failed' | 'cancelled' | 'crashed';

/** What a run or batch job status other than `queued` asks of its task. */
export function runStatusTarget(status: Exclude<RunStatus, 'queued'>): FacadeTarget {
  return status === 'stopped' ? 'cancelled' : status;
}

export interface FacadeMove {
  /** Names the domain row in errors, e.g. `Run 3`. */
  what: string;
  /** Its current and requested status in its own words (for errors). */
  from: string;
  to: string;
  taskId: number | null;
  target: FacadeTarget;
  /** Why it failed, stopped or crashed; undefined keeps what the task has. */
  error?: string | null;
  result?: JsonObject | null;
  /** For `running`: claim it (default) or only queue it again. */
  claim?: boolean;
}

export function moveTaskAsFacade(tasks: SqliteTaskStore, owner: TaskOwner, move: FacadeMove, changes: Changes): void {
  const { what, from, to, taskId, target } = move;
  if (taskId === null) {
    throw new ApiError('conflict', `${what} is ${from} and cannot become ${to}: its task was deleted, so its status is final.`);
  }
  const task = tasks.requireRow(taskId);
  const refuse = () => new ApiError('conflict', `${what} is ${from} and cannot become ${to} (its task ${taskId} is ${task.state}).`);

  if (target === 'running') {
    if (isLive(task.state)) return;
    if (task.state === 'completed') throw refuse();
    if (task.state !== 'queued') tasks.resumeSync(taskId, changes);
    if (move.claim !== false && !tasks.claimByIdSync(taskId, owner, changes)) throw refuse();
    return;
  }

  // The owner reporting that its engine died gives a reason even when the caller did not.
  const error = target === 'crashed' && move.error == null ? `${what} crashed: its engine process died.` : move.error;
  const end = {
    state: target,
    ...(error !== undefined ? { error } : {}),
    ...(move.result !== undefined ? { result: move.result } : {}),
  };
  if (task.state === 'queued') {
    // Only work that ran can crash.
    if (target === 'crashed') throw refuse();
    if (target === 'cancelled') {
      tasks.requestStopSync(taskId, move.error ?? null, changes);
      return;
    }
    // Ended without ever running: claimed and finished in one transaction.
    if (!tasks.claimByIdSync(taskId, owner, changes)) throw refuse();
    tasks.finishSync(taskId, owner, end, changes);
    return;
  }
  if (!isLive(task.state)) throw refuse();
  tasks.finishSync(taskId, owner, end, changes);
}
