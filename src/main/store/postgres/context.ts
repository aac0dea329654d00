/**
 * What every PostgreSQL repository shares (the database, files, clock, owners
 * and hooks) and how writes that move tasks commit: one transaction, then the
 * hooks, which hear only of changes that were committed.
 */
import type { TaskOwner } from '../../../shared/taskTypes';
import type { Clock } from '../clock';
import { notify } from '../context';
import type { RunFiles } from '../files';
import type { Owner, OwnerCheck } from '../owner';
import type { StoreHooks } from '../storage';
import { readRun } from './runRows';
import type { Database, Sql } from './sql';
import { readTask } from './taskRows';

export interface PgContext {
  db: Database;
  files: RunFiles;
  clock: Clock;
  /** This process. */
  owner: Owner;
  /** The owner the status facades (`runs.setStatus`, ...) act as: this process, worker `main`. */
  taskOwner: TaskOwner;
  isOwnerAlive: OwnerCheck;
  hooks: StoreHooks;
}

/** Tasks and runs a transaction changed, for the hooks after it commits. */
export class Changes {
  readonly tasks = new Set<number>();
  readonly deletedTasks = new Set<number>();
  readonly runs = new Set<number>();
}

export async function commit<T>(context: PgContext, work: (sql: Sql, changes: Changes) => Promise<T>): Promise<T> {
  const changes = new Changes();
  const result = await context.db.transaction((sql) => work(sql, changes));
  await publish(context, changes);
  return result;
}

export async function publish(context: PgContext, changes: Changes): Promise<void> {
  const { hooks } = context;
  const sql = context.db.sql;
  if (hooks.onTaskChanged) {
    for (const id of changes.tasks) {
      const task = await readTask(sql, id);
      if (task) notify(hooks.onTaskChanged, task);
    }
  }
  for (const id of changes.deletedTasks) notify(hooks.onTaskDeleted, id);
  if (hooks.onRunChanged) {
    for (const id of changes.runs) {
      const run = await readRun(context, sql, id);
      if (run) notify(hooks.onRunChanged, run);
    }
  }
}
