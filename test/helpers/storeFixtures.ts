/** Temporary data directories and SQLite stores for the store's tests. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSqliteStore, type SqliteExperimentStore, type SqliteStoreOptions } from '../../src/main/store/sqliteStore';
import type { StoreFactory } from './storeContract';

export function tempDataDir(prefix = 'store-test-'): { dir: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/**
 * A SQLite store in a fresh temporary data directory (a real file, so WAL
 * applies); `openAnother` opens a second connection to the same file, as a
 * second process would.
 */
export function sqliteFactory(extra: Partial<SqliteStoreOptions> = {}): StoreFactory {
  return async ({ clock, writerMaxRows, hooks }) => {
    const { dir, remove } = tempDataDir();
    const open = () => openSqliteStore({ dataDir: dir, clock, writer: { maxRows: writerMaxRows }, ...(hooks ? { hooks } : {}), ...extra });
    const store = open();
    const others: SqliteExperimentStore[] = [];
    return {
      store,
      dataDir: dir,
      async openAnother() {
        const other = openSqliteStore({ dataDir: dir, clock, ...extra });
        others.push(other);
        return other;
      },
      async dispose() {
        for (const other of others) await other.close();
        await store.close();
        remove();
      },
    };
  };
}
