/** What every SQLite repository shares: the connection, the files, the clock, the owners and the hooks. */
import type { TaskOwner } from '../../shared/taskTypes';
import type { Clock } from './clock';
import type { Db } from './db';
import type { RunFiles } from './files';
import type { Owner, OwnerCheck } from './owner';
import type { StoreHooks } from './storage';

export interface SqliteContext {
  db: Db;
  files: RunFiles;
  clock: Clock;
  /** This process. */
  owner: Owner;
  /**
   * The owner the run, batch job and study facades (`runs.setStatus`, ...)
   * claim and finish tasks as: this process, worker `main`.
   */
  taskOwner: TaskOwner;
  /** Whether a task's owning process may still be alive (crash recovery). */
  isOwnerAlive: OwnerCheck;
  hooks: StoreHooks;
}

/** Runs a hook without letting a listener's error undo or fail a committed write. */
export function notify<A extends unknown[]>(hook: ((...args: A) => void) | undefined, ...args: A): void {
  if (!hook) return;
  try {
    hook(...args);
  } catch {
    // The write is committed; a broken listener must not make it look failed.
  }
}
