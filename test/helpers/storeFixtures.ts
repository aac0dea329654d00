/** Temporary data directories and SQLite stores for the store's tests. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSqliteStore, type SqliteStoreOptions } from '../../src/main/store/sqliteStore';
import type { StoreFactory } from './storeContract';

export function tempDataDir(prefix = 'store-test-'): { dir: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A SQLite store in a fresh temporary data directory (a real file, so WAL applies). */
export function sqliteFactory(extra: Partial<SqliteStoreOptions> = {}): StoreFactory {
  return async ({ clock, writerMaxRows }) => {
    const { dir, remove } = tempDataDir();
    const store = openSqliteStore({ dataDir: dir, clock, writer: { maxRows: writerMaxRows }, ...extra });
    return {
      store,
      dataDir: dir,
      async dispose() {
        await store.close();
        remove();
      },
    };
  };
}
