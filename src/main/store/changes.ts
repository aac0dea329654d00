/**
 * Writes that move tasks: one IMMEDIATE transaction, then the hooks. Every
 * write records which tasks and runs it changed; listeners hear of them only
 * after the commit, so nobody is told of a change that was rolled back.
 */
import { notify, type SqliteContext } from './context';
import { readRun } from './runRows';
import { readTask } from './taskRows';

export class Changes {
  readonly tasks = new Set<number>();
  readonly deletedTasks = new Set<number>();
  readonly runs = new Set<number>();
}

/**
 * Runs `work` in an IMMEDIATE transaction (the write lock is taken first, so
 * a read-then-write never loses a race with another connection), then tells
 * the hooks what changed.
 */
export function commit<T>(context: SqliteContext, work: (changes: Changes) => T): T {
  const changes = new Changes();
  const result = context.db.transaction(() => work(changes)).immediate();
  publish(context, changes);
  return result;
}

export function publish(context: SqliteContext, changes: Changes): void {
  const { hooks } = context;
  if (hooks.onTaskChanged) {
    for (const id of changes.tasks) {
      const task = readTask(context.db, id);
      if (task) notify(hooks.onTaskChanged, task);
    }
  }
  for (const id of changes.deletedTasks) notify(hooks.onTaskDeleted, id);
  if (hooks.onRunChanged) {
    for (const id of changes.runs) {
      const run = readRun(context, id);
      if (run) notify(hooks.onRunChanged, run);
    }
  }
}
