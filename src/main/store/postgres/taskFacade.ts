/**
 * The older status setters as task transitions on PostgreSQL; the same rules
 * as ../taskFacade.ts (read there), acting as the store's own owner.
 */
import { ApiError } from '../../../shared/errors';
import type { TaskOwner } from '../../../shared/taskTypes';
import type { FacadeMove } from '../taskFacade';
import { isLive } from '../taskStates';
import type { Changes } from './context';
import type { Sql } from './sql';
import type { PgTaskStore } from './tasks';

export { runStatusTarget, type FacadeMove, type FacadeTarget } from '../taskFacade';

export async function moveTaskAsFacade(sql: Sql, tasks: PgTaskStore, owner: TaskOwner, move: FacadeMove, changes: Changes): Promise<void> {
  const { what, from, to, taskId, target } = move;
  if (taskId === null) {
    throw new ApiError('conflict', `${what} is ${from} and cannot become ${to}: its task was deleted, so its status is final.`);
  }
  const task = await tasks.requireRow(sql, taskId);
  const refuse = () => new ApiError('conflict', `${what} is ${from} and cannot become ${to} (its task ${taskId} is ${task.state}).`);

  if (target === 'running') {
    if (isLive(task.state)) return;
    if (task.state === 'completed') throw refuse();
    if (task.state !== 'queued') await tasks.resumeIn(sql, taskId, changes);
    if (move.claim !== false && !(await tasks.claimByIdIn(sql, taskId, owner, changes))) throw refuse();
    return;
  }

  const error = target === 'crashed' && move.error == null ? `${what} crashed: its engine process died.` : move.error;
  const end = {
    state: target,
    ...(error !== undefined ? { error } : {}),
    ...(move.result !== undefined ? { result: move.result } : {}),
  };
  if (task.state === 'queued') {
    if (target === 'crashed') throw refuse();
    if (target === 'cancelled') {
      await tasks.requestStopIn(sql, taskId, move.error ?? null, changes);
      return;
    }
    if (!(await tasks.claimByIdIn(sql, taskId, owner, changes))) throw refuse();
    await tasks.finishIn(sql, taskId, owner, end, changes);
    return;
  }
  if (!isLive(task.state)) throw refuse();
  await tasks.finishIn(sql, taskId, owner, end, changes);
}
