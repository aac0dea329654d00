/**
 * Opens the workbench's SQLite database with the settings every connection
 * needs: WAL (readers never block the writer, and a crash loses at most the
 * last uncommitted transaction), foreign keys (a run's rows go with it), and a
 * busy timeout (a CLI command may write while the app is open).
 */
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { sqliteNativeBinding } from './nativeBinding';

export type Db = Database.Database;

/** The database file inside a data directory. */
export function databasePath(dataDir: string): string {
  return join(dataDir, 'workbench.db');
}

/** `:memory:` gives a private in-memory database (tests); anything else is a file path. */
export function openDatabase(file: string): Db {
  if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
  let db: Db;
  try {
    const nativeBinding = sqliteNativeBinding();
    db = new Database(file, nativeBinding ? { nativeBinding } : {});
  } catch (error) {
    const message = (error as Error).message;
    // The native module must match the runtime: Node's for the CLI and tests,
    // Electron's for the desktop app.
    const hint = /NODE_MODULE_VERSION|was compiled against a different/.test(message)
      ? ' better-sqlite3 was built for another Node.js or Electron version; build it for this runtime: `npm run setup:electron` for the desktop app, `npm rebuild better-sqlite3` for Node.'
      : '';
    throw new Error(`Cannot open the workbench database ${file}: ${message}${hint}`);
  }
  try {
    if (file !== ':memory:') db.pragma('journal_mode = WAL');
    // NORMAL is durable across application crashes in WAL mode; only a power
    // loss can drop the last transactions, never corrupt the file.
    db.pragma('synchronous = NORMAL');
    db.pragma('foreign_keys = ON');
    db.pragma('busy_timeout = 5000');
  } catch (error) {
    db.close();
    throw new Error(`Cannot configure the workbench database ${file}: ${(error as Error).message}`);
  }
  return db;
}
