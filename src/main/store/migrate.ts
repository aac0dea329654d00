/**
 * Schema migrations: numbered, applied in order, each in one transaction
 * together with its `PRAGMA user_version` bump, so a failing migration leaves
 * the database exactly as it was. A database written by newer code is refused
 * rather than guessed at.
 */
import { ApiError } from '../../shared/errors';
import type { Db } from './db';

export interface Migration {
  /** 1, 2, 3, ...: the `user_version` the database has after it ran. */
  version: number;
  name: string;
  /**
   * Runs inside the migration's transaction. It must not change
   * `foreign_keys` (SQLite ignores that inside a transaction); a table rebuild
   * has to keep its references valid instead.
   */
  up(db: Db): void;
}

/** An ApiError so that the CLI and the API show its message as it is, without a stack. */
export class NewerDatabaseError extends ApiError {
  constructor(
    readonly file: string,
    readonly found: number,
    readonly supported: number,
  ) {
    super(
      'conflict',
      `The database ${file} has schema version ${found}, but this version of Captioning Workbench ` +
        `understands versions up to ${supported}. It was written by a newer release: update the ` +
        `workbench, or choose another data directory (--data-dir or CAPTIONER_DATA_DIR).`,
    );
    this.name = 'NewerDatabaseError';
  }
}

export interface MigrationResult {
  from: number;
  to: number;
  applied: string[];
}

export function schemaVersion(db: Db): number {
  return db.pragma('user_version', { simple: true }) as number;
}

/** Checks that versions run 1..n without gaps, so a missing file cannot go unnoticed. */
export function checkMigrationList(migrations: readonly Migration[]): void {
  migrations.forEach((migration, index) => {
    if (migration.version !== index + 1) {
      throw new Error(
        `Migration "${migration.name}" has version ${migration.version}; expected ${index + 1} (versions must run 1, 2, 3, ... in order).`,
      );
    }
  });
}

/** Brings `db` up to the newest of `migrations`; throws `NewerDatabaseError` for a newer database. */
export function migrate(db: Db, migrations: readonly Migration[], file = db.name): MigrationResult {
  checkMigrationList(migrations);
  const latest = migrations.length;
  const from = schemaVersion(db);
  if (from > latest) throw new NewerDatabaseError(file, from, latest);
  const applied: string[] = [];
  for (const migration of migrations.slice(from)) {
    const apply = db.transaction(() => {
      // Another process may have applied it while this one waited for the lock.
      if (schemaVersion(db) >= migration.version) return;
      migration.up(db);
      // user_version lives in the database header, which the transaction
      // covers: a rollback restores the old number too.
      db.pragma(`user_version = ${migration.version}`);
    });
    try {
      // IMMEDIATE takes the write lock up front, so two processes opening the
      // same new database migrate it one after the other, never both at once.
      apply.immediate();
    } catch (error) {
      throw new Error(
        `Migration ${String(migration.version).padStart(4, '0')}-${migration.name} failed on ${file}; ` +
          `the database was left at schema version ${schemaVersion(db)}: ${(error as Error).message}`,
      );
    }
    applied.push(`${String(migration.version).padStart(4, '0')}-${migration.name}`);
  }
  return { from, to: schemaVersion(db), applied };
}
