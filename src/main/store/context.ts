/** What every SQLite repository shares: the connection, the files, the clock, the owner and the hooks. */
import type { Clock } from './clock';
import type { Db } from './db';
import type { RunFiles } from './files';
import type { Owner } from './owner';
import type { StoreHooks } from './storage';

export interface SqliteContext {
  db: Db;
  files: RunFiles;
  clock: Clock;
  owner: Owner;
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
