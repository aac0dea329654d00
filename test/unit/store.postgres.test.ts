/**
 * The PostgreSQL store against the shared storage contract, on a real
 * PostgreSQL 15 server started for this file (test/helpers/postgres.ts).
 * Each test gets a fresh, empty schema; `openAnother` opens a second pool on
 * it, as a worker on another machine would.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pgMigrations } from '../../src/main/store/postgres/migrations';
import { openPostgresStore, type PostgresExperimentStore, type PostgresStoreOptions } from '../../src/main/store/postgres/store';
import { describeStore, parseStoreSpec, resolveStoreSpec } from '../../src/main/store/openStore';
import { startPostgres, type TestPostgres } from '../helpers/postgres';
import { describeStoreContract, type StoreFactory } from '../helpers/storeContract';
import { tempDataDir } from '../helpers/storeFixtures';

let server: TestPostgres;
let url: string;
let schemas = 0;

beforeAll(async () => {
  server = await startPostgres();
  url = await server.createDatabase('contract');
}, 120_000);

afterAll(async () => {
  await server?.dropDatabase('contract');
  await server?.stop();
});

function postgresFactory(extra: Partial<PostgresStoreOptions> = {}): StoreFactory {
  return async ({ clock, writerMaxRows, hooks }) => {
    const { dir, remove } = tempDataDir('store-pg-');
    const schema = `contract_${++schemas}`;
    const open = (withHooks: boolean) =>
      openPostgresStore({ url, schema, dataDir: dir, clock, poolSize: 4, writer: { maxRows: writerMaxRows }, ...(withHooks && hooks ? { hooks } : {}), ...extra });
    const store = await open(true).ready();
    const others: PostgresExperimentStore[] = [];
    return {
      store,
      dataDir: dir,
      async openAnother() {
        const other = await open(false).ready();
        others.push(other);
        return other;
      },
      async dispose() {
        for (const other of others) await other.close();
        await store.close();
        const cleanup = openPostgresStore({ url, dataDir: dir, recoverOnOpen: false });
        try {
          await cleanup.ready();
          const pool = (cleanup as unknown as { db: { pool: import('pg').Pool } }).db.pool;
          await pool.query(`DROP SCHEMA "${schema}" CASCADE`);
        } finally {
          await cleanup.close();
          remove();
        }
      },
    };
  };
}

describeStoreContract('postgres', postgresFactory());

describe('postgres store: opening', () => {
  it('applies the migrations once when ten stores open a new schema together', async () => {
    const { dir, remove } = tempDataDir('store-pg-');
    const stores = Array.from({ length: 10 }, () => openPostgresStore({ url, schema: 'racing_open', dataDir: dir, poolSize: 2 }));
    try {
      const opened = await Promise.all(stores.map((store) => store.opened));
      const applied = opened.flatMap((result) => result.migration.applied).sort();
      // Each exactly once, whichever store applied it.
      expect(applied).toEqual(pgMigrations.map((migration) => `${String(migration.version).padStart(4, '0')}-${migration.name}`));
      expect(opened.every((result) => result.migration.to === pgMigrations.length)).toBe(true);
      const run = await stores[3]!.runs.create({ config: {} });
      expect((await stores[7]!.runs.get(run.id))?.id).toBe(run.id);
    } finally {
      for (const store of stores) await store.close();
      remove();
    }
  });

  it('refuses a database written by a newer schema, naming it', async () => {
    const { dir, remove } = tempDataDir('store-pg-');
    const first = await openPostgresStore({ url, schema: 'newer', dataDir: dir }).ready();
    await (first as unknown as { db: { pool: import('pg').Pool } }).db.pool.query('UPDATE newer.schema_version SET version = 99');
    await first.close();
    const second = openPostgresStore({ url, schema: 'newer', dataDir: dir });
    try {
      await expect(second.ready()).rejects.toThrow(new RegExp(`schema version 99.*understands versions up to ${pgMigrations.length}`));
      await expect(second.runs.list()).rejects.toThrow(/schema version 99/);
    } finally {
      await second.close();
      remove();
    }
  });
});

describe('choosing the store', () => {
  it('reads --store, then CAPTIONER_STORE, and defaults to SQLite', () => {
    expect(resolveStoreSpec(null, {})).toEqual({ kind: 'sqlite' });
    expect(resolveStoreSpec('sqlite', { CAPTIONER_STORE: 'postgres://h/db' })).toEqual({ kind: 'sqlite' });
    expect(resolveStoreSpec(undefined, { CAPTIONER_STORE: 'postgres://u:p@h:5432/db' })).toEqual({ kind: 'postgres', url: 'postgres://u:p@h:5432/db' });
    expect(parseStoreSpec('postgresql://h/db?schema=lab_a')).toEqual({ kind: 'postgres', url: 'postgresql://h/db', schema: 'lab_a' });
  });

  it('refuses what is not a store, naming where it came from and hiding the password', () => {
    expect(() => parseStoreSpec('mysql://h/db')).toThrow(/--store: "mysql:\/\/h\/db" is not a store/);
    expect(() => resolveStoreSpec(null, { CAPTIONER_STORE: 'postgres://u:secret@h' })).toThrow(/CAPTIONER_STORE: .*names no database/);
    expect(() => parseStoreSpec('postgres://u:secret@h')).not.toThrow(/secret/);
    expect(() => parseStoreSpec('postgres://h/db?schema=a;drop')).toThrow(/schema "a;drop" must be a plain identifier/);
    expect(describeStore({ kind: 'postgres', url: 'postgres://u:secret@h/db' })).toBe('PostgreSQL postgres://u:***@h/db');
  });
});

describe('postgres store: batch review (migration 6)', () => {
  it('records outcomes idempotently, sorts by confidence, searches, edits, counts and pages in path order', async () => {
    const { dir, remove } = tempDataDir('store-pg-');
    const store = await openPostgresStore({ url, schema: 'batch_review', dataDir: dir }).ready();
    try {
      const job = await store.batchJobs.create({ inputPath: '/photos', modelPath: '/m', decoding: {}, total: 3 });
      const options = { input: { folder: '/photos', recursive: true, include: [], exclude: [] }, model: { package: 'tiny' }, decoding: { strategy: 'greedy' }, outputs: { sidecar: null, csv: null, jsonl: null, coco: null }, batchSize: 8 };
      await store.batchReview.setup(job.id, options as never, 'tiny');
      const item = (name: string, confidence: number | null) => ({
        path: `/photos/${name}`,
        relativePath: name,
        outcome: (confidence === null ? 'failed' : 'captioned') as 'failed' | 'captioned',
        caption: confidence === null ? null : `a photo of ${name}`,
        logProb: confidence,
        confidence,
        error: confidence === null ? 'unreadable' : null,
      });
      await store.batchReview.record(job.id, [item('b.jpg', 0.9), item('a.jpg', 0.2), item('C.jpg', null)], { ignored: 1, excluded: 2, sidecarPending: true });
      // Sent again (a re-claimed shard): nothing doubles.
      await store.batchReview.record(job.id, [item('a.jpg', 0.2)], { ignored: 0, excluded: 0, sidecarPending: true });
      const asc = await store.batchReview.items(job.id, { sort: 'confidence-asc' });
      expect(asc.items.map((entry) => entry.relativePath)).toEqual(['a.jpg', 'b.jpg', 'C.jpg']);
      expect((await store.batchReview.items(job.id, { search: 'PHOTO OF B' })).items.map((entry) => entry.path)).toEqual(['/photos/b.jpg']);
      expect((await store.batchReview.edit(job.id, '/photos/a.jpg', 'a reviewed caption')).editedCaption).toBe('a reviewed caption');
      expect(await store.batchReview.counts(job.id)).toEqual({ captioned: 2, skippedExisting: 0, failed: 1, ignored: 1, excluded: 2, sidecars: 0 });
      expect(await store.batchReview.donePaths(job.id)).toEqual(['/photos/C.jpg', '/photos/a.jpg', '/photos/b.jpg']);
      const pages: string[][] = [];
      for await (const page of store.batchReview.pages(job.id, 2)) pages.push(page.map((entry) => entry.relativePath));
      expect(pages).toEqual([['C.jpg', 'a.jpg'], ['b.jpg']]);
      expect((await store.batchReview.pendingSidecars(job.id)).map((pending) => pending.item.relativePath)).toEqual(['a.jpg', 'b.jpg']);
    } finally {
      await store.close();
      remove();
    }
  });
});
