/**
 * Schema migrations: a fresh database, each migration upgrading a database
 * that already holds data of the previous version, refusal of a newer
 * database, and a failing migration leaving its database untouched.
 */
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { databasePath, openDatabase, type Db } from '../../src/main/store/db';
import { checkMigrationList, migrate, NewerDatabaseError, schemaVersion, type Migration } from '../../src/main/store/migrate';
import { LATEST_SCHEMA_VERSION, migrations } from '../../src/main/store/migrations';
import { openSqliteStore } from '../../src/main/store/sqliteStore';
import { tempDataDir } from '../helpers/storeFixtures';

let data: ReturnType<typeof tempDataDir>;
let db: Db | null = null;

beforeEach(() => {
  data = tempDataDir('migrations-');
});

afterEach(() => {
  if (db?.open) db.close();
  db = null;
  data.remove();
});

function openAt(version: number): Db {
  db = openDatabase(databasePath(data.dir));
  migrate(db, migrations.slice(0, version));
  expect(schemaVersion(db)).toBe(version);
  return db;
}

function tables(database: Db): string[] {
  return database.prepare(`SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name`).pluck().all() as string[];
}

const T = 1_700_000_000_000;

function insertRun(database: Db, name: string): number {
  return Number(
    database
      .prepare(`INSERT INTO runs (name, status, config, created_at) VALUES (?, 'completed', '{"lr":0.001}', ?)`)
      .run(name, T).lastInsertRowid,
  );
}

describe('a fresh database', () => {
  it('gets every migration, STRICT tables, WAL and foreign keys', () => {
    const database = openAt(0);
    const result = migrate(database, migrations);
    expect(result).toEqual({
      from: 0,
      to: LATEST_SCHEMA_VERSION,
      applied: migrations.map((migration) => `${String(migration.version).padStart(4, '0')}-${migration.name}`),
    });
    expect(tables(database)).toEqual([
      'artifacts',
      'batch_job_settings',
      'batch_jobs',
      'batch_results',
      'batch_shards',
      'checkpoints',
      'datasets',
      'evaluation_items',
      'evaluations',
      'metrics',
      'runs',
      'sample_captions',
      'studies',
      'tasks',
      'trial_intermediate_values',
      'trials',
    ]);
    const strict = database.prepare(`SELECT name, strict FROM pragma_table_list WHERE schema = 'main' AND name NOT LIKE 'sqlite_%'`).all() as Array<{ name: string; strict: number }>;
    expect(strict.filter((table) => table.strict !== 1)).toEqual([]);
    expect(database.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(database.pragma('foreign_keys', { simple: true })).toBe(1);
    // STRICT refuses a value of the wrong type instead of storing it.
    expect(() => database.prepare(`INSERT INTO runs (name, status, config, created_at) VALUES ('x', 'queued', '{}', 'yesterday')`).run()).toThrow(/cannot store TEXT value in INTEGER column/);
    // CHECK constraints keep statuses and JSON honest.
    expect(() => database.prepare(`INSERT INTO runs (name, status, config, created_at) VALUES ('x', 'paused', '{}', 1)`).run()).toThrow(/CHECK/);
    expect(() => database.prepare(`INSERT INTO runs (name, status, config, created_at) VALUES ('x', 'queued', '{oops', 1)`).run()).toThrow(/CHECK/);
  });

  it('applies nothing the second time', () => {
    const database = openAt(LATEST_SCHEMA_VERSION);
    expect(migrate(database, migrations)).toEqual({ from: LATEST_SCHEMA_VERSION, to: LATEST_SCHEMA_VERSION, applied: [] });
  });
});

describe('upgrading a database that holds data', () => {
  it('0001-initial: runs, metrics, checkpoints and samples cascade with their run', () => {
    const database = openAt(1);
    const runId = insertRun(database, 'r');
    database.prepare(`INSERT INTO metrics VALUES (?, 'loss', 1, 0, 2.5, ?)`).run(runId, T);
    database.prepare(`INSERT INTO checkpoints (run_id, epoch, step, path, created_at) VALUES (?, 1, 1, 'runs/1/e1', ?)`).run(runId, T);
    database.prepare(`INSERT INTO sample_captions (run_id, epoch, step, image_id, caption, created_at) VALUES (?, 0, 1, 'i', 'a dog', ?)`).run(runId, T);
    expect(() => database.prepare(`INSERT INTO metrics VALUES (999, 'loss', 1, 0, 1, ?)`).run(T)).toThrow(/FOREIGN KEY/);
    database.prepare('DELETE FROM runs WHERE id = ?').run(runId);
    for (const table of ['metrics', 'checkpoints', 'sample_captions']) {
      expect(database.prepare(`SELECT COUNT(*) FROM ${table}`).pluck().get()).toBe(0);
    }
  });

  it('0002-evaluations: keeps runs and checkpoints, and evaluations can refer to them', () => {
    const database = openAt(1);
    const runId = insertRun(database, 'before 0002');
    database.prepare(`INSERT INTO metrics VALUES (?, 'val/loss', 10, 0, 1.25, ?)`).run(runId, T);
    const checkpointId = Number(database.prepare(`INSERT INTO checkpoints (run_id, epoch, step, path, created_at) VALUES (?, 1, 10, 'runs/1/e1', ?)`).run(runId, T).lastInsertRowid);

    expect(migrate(database, migrations.slice(0, 2)).applied).toEqual(['0002-evaluations']);
    expect(database.prepare('SELECT name FROM runs WHERE id = ?').pluck().get(runId)).toBe('before 0002');
    expect(database.prepare('SELECT value FROM metrics WHERE run_id = ?').pluck().get(runId)).toBe(1.25);
    const evaluationId = Number(
      database
        .prepare(`INSERT INTO evaluations (run_id, checkpoint_id, split, decoding, metric_definitions, aggregate, image_count, created_at) VALUES (?, ?, 'test', '{}', '{}', '{"bleu4":0.2}', 1, ?)`)
        .run(runId, checkpointId, T).lastInsertRowid,
    );
    database.prepare(`INSERT INTO evaluation_items VALUES (?, 'img', NULL, 'a cat', '["a cat"]', '{}')`).run(evaluationId);
    database.prepare('DELETE FROM checkpoints WHERE id = ?').run(checkpointId);
    expect(database.prepare('SELECT checkpoint_id FROM evaluations WHERE id = ?').pluck().get(evaluationId)).toBeNull();
  });

  it('0003-tuning: keeps evaluations, and trials can link to existing runs', () => {
    const database = openAt(2);
    const runId = insertRun(database, 'before 0003');
    database.prepare(`INSERT INTO evaluations (run_id, split, decoding, metric_definitions, aggregate, image_count, created_at) VALUES (?, 'val', '{}', '{}', '{}', 0, ?)`).run(runId, T);

    expect(migrate(database, migrations.slice(0, 3)).applied).toEqual(['0003-tuning']);
    expect(database.prepare('SELECT COUNT(*) FROM evaluations WHERE run_id = ?').pluck().get(runId)).toBe(1);
    const studyId = Number(
      database
        .prepare(`INSERT INTO studies (name, objective, direction, search_space, sampler, pruner, base_config, status, created_at, updated_at) VALUES ('s', 'val/loss', 'minimize', '{}', 'tpe', 'median', '{}', 'running', ?, ?)`)
        .run(T, T).lastInsertRowid,
    );
    database.prepare(`INSERT INTO trials (study_id, number, state, params, run_id, created_at) VALUES (?, 0, 'completed', '{}', ?, ?)`).run(studyId, runId, T);
    expect(() => database.prepare(`INSERT INTO trials (study_id, number, state, params, created_at) VALUES (?, 0, 'running', '{}', ?)`).run(studyId, T)).toThrow(/UNIQUE/);
    database.prepare('DELETE FROM runs WHERE id = ?').run(runId);
    expect(database.prepare('SELECT run_id FROM trials').pluck().get()).toBeNull();
  });

  it('0004-batch-jobs: keeps studies and trials, and jobs can link to existing runs', () => {
    const database = openAt(3);
    const runId = insertRun(database, 'before 0004');
    const studyId = Number(
      database
        .prepare(`INSERT INTO studies (name, objective, direction, search_space, sampler, pruner, base_config, status, created_at, updated_at) VALUES ('s', 'val/loss', 'minimize', '{}', 'tpe', 'median', '{}', 'running', ?, ?)`)
        .run(T, T).lastInsertRowid,
    );
    database.prepare(`INSERT INTO trials (study_id, number, state, params, created_at) VALUES (?, 0, 'running', '{"lr":0.01}', ?)`).run(studyId, T);

    expect(migrate(database, migrations.slice(0, 4)).applied).toEqual(['0004-batch-jobs']);
    expect(database.prepare('SELECT params FROM trials WHERE study_id = ?').pluck().get(studyId)).toBe('{"lr":0.01}');
    const jobId = Number(
      database
        .prepare(`INSERT INTO batch_jobs (input_path, model_path, run_id, decoding, status, total, created_at) VALUES ('/in', '/m', ?, '{}', 'queued', 2, ?)`)
        .run(runId, T).lastInsertRowid,
    );
    database.prepare(`INSERT INTO batch_results VALUES (?, '/in/a.jpg', 'a dog', -1.5, NULL, ?)`).run(jobId, T);
    expect(database.prepare('SELECT COUNT(*) FROM batch_results WHERE job_id = ?').pluck().get(jobId)).toBe(1);
  });

  it('0005-tasks: every run, job, study and trial gets a task from its old status; running ones are crashed with a reason', async () => {
    const database = openAt(4);
    const insert = (status: string, started: number | null, finished: number | null, heartbeat: number | null) =>
      Number(
        database
          .prepare(
            `INSERT INTO runs (name, status, config, owner_host, owner_pid, error, created_at, started_at, finished_at, heartbeat_at)
             VALUES (?, ?, '{}', 'old-host', 4242, ?, ?, ?, ?, ?)`,
          )
          .run(`${status} run`, status, status === 'failed' ? 'NaN loss' : null, T, started, finished, heartbeat).lastInsertRowid,
      );
    const running = insert('running', T + 1, null, T + 5_000);
    const stopped = insert('stopped', T + 1, T + 9, T + 8);
    const failed = insert('failed', T + 1, T + 9, T + 8);
    const queued = insert('queued', null, null, null);
    const completed = insert('completed', T + 1, T + 9, T + 8);
    database.prepare(`INSERT INTO metrics VALUES (?, 'loss', 1, 0, 2.5, ?)`).run(running, T);
    const studyId = Number(
      database
        .prepare(`INSERT INTO studies (name, objective, direction, search_space, sampler, pruner, base_config, status, created_at, updated_at) VALUES ('s', 'val/loss', 'minimize', '{}', 'tpe', 'median', '{}', 'running', ?, ?)`)
        .run(T, T).lastInsertRowid,
    );
    const trial = (number: number, state: string, value: number | null) =>
      Number(
        database
          .prepare(`INSERT INTO trials (study_id, number, state, params, value, owner_host, owner_pid, created_at, started_at, heartbeat_at) VALUES (?, ?, ?, '{"lr":0.1}', ?, 'old-host', 4242, ?, ?, ?)`)
          .run(studyId, number, state, value, T, T + 1, T + 2).lastInsertRowid,
      );
    const prunedTrial = trial(0, 'pruned', 0.9);
    const runningTrial = trial(1, 'running', null);
    database.prepare('INSERT INTO trial_intermediate_values VALUES (?, 3, 1.25)').run(prunedTrial);
    const jobId = Number(
      database
        .prepare(`INSERT INTO batch_jobs (input_path, model_path, decoding, status, total, owner_host, owner_pid, created_at, started_at, heartbeat_at) VALUES ('/in', '/m', '{}', 'running', 2, 'old-host', 4242, ?, ?, ?)`)
        .run(T, T + 1, T + 2).lastInsertRowid,
    );

    expect(migrate(database, migrations.slice(0, 5)).applied).toEqual(['0005-tasks']);
    type Row = { id: number; status: string; error: string | null; task_id: number; state: string; kind: string; task_error: string | null; params: string; owner_pid: number | null; attempts: number; result: string | null; parent_id: number | null };
    const runRow = (id: number) =>
      database
        .prepare(`SELECT r.id, r.status, r.error, r.task_id, t.state, t.kind, t.error AS task_error, t.params, t.owner_pid, t.attempts FROM runs r JOIN tasks t ON t.id = r.task_id WHERE r.id = ?`)
        .get(id) as Row;
    expect(runRow(running)).toMatchObject({ status: 'crashed', state: 'crashed', kind: 'training', owner_pid: 4242, attempts: 1, params: JSON.stringify({ runId: running }) });
    expect(runRow(running).task_error).toMatch(/running when the database was upgraded to schema 5 \(process 4242 on old-host, last heartbeat 2023-11-14T22:13:25\.000Z\)/);
    expect(runRow(running).error).toBe(runRow(running).task_error);
    expect(runRow(stopped)).toMatchObject({ status: 'stopped', state: 'cancelled' });
    expect(runRow(failed)).toMatchObject({ status: 'failed', state: 'failed', task_error: 'NaN loss' });
    // Queued work has no owner: any executor may claim it.
    expect(runRow(queued)).toMatchObject({ status: 'queued', state: 'queued', owner_pid: null, attempts: 0 });
    expect(runRow(completed)).toMatchObject({ status: 'completed', state: 'completed' });
    expect(database.prepare('SELECT value FROM metrics WHERE run_id = ?').pluck().get(running)).toBe(2.5);

    const trialRow = (id: number) =>
      database.prepare(`SELECT tr.state AS status, t.state, t.result, t.parent_id FROM trials tr JOIN tasks t ON t.id = tr.task_id WHERE tr.id = ?`).get(id) as Row;
    const studyTask = database.prepare('SELECT task_id FROM studies WHERE id = ?').pluck().get(studyId) as number;
    expect(trialRow(prunedTrial)).toMatchObject({ status: 'pruned', state: 'completed', parent_id: studyTask });
    expect(JSON.parse(trialRow(prunedTrial).result as string)).toEqual({ pruned: true, value: 0.9 });
    expect(trialRow(runningTrial)).toMatchObject({ status: 'crashed', state: 'crashed' });
    expect(database.prepare('SELECT value FROM trial_intermediate_values WHERE trial_id = ?').pluck().get(prunedTrial)).toBe(1.25);
    expect(database.prepare('SELECT status FROM studies WHERE id = ?').pluck().get(studyId)).toBe('stopped');
    expect(database.prepare('SELECT state FROM tasks WHERE id = ?').pluck().get(studyTask)).toBe('crashed');
    expect(database.prepare('SELECT j.status || \'/\' || t.state FROM batch_jobs j JOIN tasks t ON t.id = j.task_id WHERE j.id = ?').pluck().get(jobId)).toBe('crashed/crashed');
    // Owner and heartbeat live in tasks only now.
    for (const table of ['runs', 'batch_jobs', 'trials']) {
      const columns = database.prepare(`SELECT name FROM pragma_table_info(?)`).pluck().all(table) as string[];
      expect(columns).toContain('task_id');
      expect(columns.filter((column) => ['owner_host', 'owner_pid', 'heartbeat_at'].includes(column))).toEqual([]);
    }
    expect(database.prepare('SELECT COUNT(*) FROM tasks').pluck().get()).toBe(5 + 1 + 2 + 1);
    expect(database.pragma('foreign_key_check')).toEqual([]);
  });

  it('0007-batch-shards: a job stored before shards keeps its results (no place in a listing yet, pages by path) and can be planned into shards', async () => {
    const database = openAt(6);
    const jobId = Number(
      database
        .prepare(`INSERT INTO batch_jobs (input_path, model_path, decoding, status, total, created_at) VALUES ('/in', '/m', '{}', 'stopped', 0, ?)`)
        .run(T).lastInsertRowid,
    );
    database.prepare(`INSERT INTO batch_job_settings (job_id, options, model_label, ignored) VALUES (?, '{}', 'm', 4)`).run(jobId);
    for (const path of ['/in/b.jpg', '/in/a.jpg']) {
      database.prepare(`INSERT INTO batch_results (job_id, image_path, caption, created_at, relative_path, outcome) VALUES (?, ?, 'x', ?, ?, 'captioned')`).run(jobId, path, T, path.slice(4));
    }
    expect(migrate(database, migrations.slice(0, 7)).applied).toEqual(['0007-batch-shards']);
    expect(database.prepare('SELECT ordinal FROM batch_results WHERE job_id = ?').pluck().all(jobId)).toEqual([null, null]);
    expect(database.prepare('SELECT plan_listed, plan_ordinals, planned, ignored FROM batch_job_settings WHERE job_id = ?').get(jobId)).toEqual({ plan_listed: 0, plan_ordinals: 0, planned: 0, ignored: 4 });
    database.close();
    const store = openSqliteStore({ dataDir: data.dir });
    try {
      const pages: string[] = [];
      for await (const page of store.batchReview.pages(jobId)) pages.push(...page.map((item) => item.path));
      expect(pages).toEqual(['/in/a.jpg', '/in/b.jpg']);
      expect(await store.batchJobs.plan(jobId)).toEqual({ listed: 0, ordinals: 0, planned: false, shards: 0 });
      expect(await store.batchJobs.addShard(jobId, { shard: 0, firstOrdinal: 0, images: ['/in/a.jpg', '/in/b.jpg', '/in/c.jpg'] }, { listed: 3, ordinals: 3, ignored: 0, excluded: 0 })).toBe(true);
      expect((await store.batchJobs.shards(jobId)).map((shard) => [shard.shard, shard.size, shard.state])).toEqual([[0, 3, 'queued']]);
    } finally {
      await store.close();
    }
  });

  it('task-placement: existing tasks stay claimable by anyone, and only `any` or `workers` can be stored', () => {
    // Found by name, not number: its number follows whatever migrations come before it.
    const placement = migrations.find((migration) => migration.name === 'task-placement')!;
    const database = openAt(placement.version - 1);
    const runId = insertRun(database, 'queued before the upgrade');
    const taskId = Number(
      database
        .prepare(`INSERT INTO tasks (kind, title, state, params, subject_type, subject_id, created_at) VALUES ('training', 'old', 'queued', ?, 'run', ?, ?)`)
        .run(JSON.stringify({ runId }), runId, T).lastInsertRowid,
    );
    expect(migrate(database, migrations.slice(0, placement.version)).applied).toEqual([`${String(placement.version).padStart(4, '0')}-task-placement`]);
    expect(database.prepare('SELECT placement FROM tasks WHERE id = ?').pluck().get(taskId)).toBe('any');
    database.prepare(`UPDATE tasks SET placement = 'workers' WHERE id = ?`).run(taskId);
    expect(() => database.prepare(`UPDATE tasks SET placement = 'gpu' WHERE id = ?`).run(taskId)).toThrow(/CHECK constraint failed/);
    expect(database.prepare('SELECT placement FROM tasks WHERE id = ?').pluck().get(taskId)).toBe('workers');
  });

  it('opens a version-1 database holding a run through the store, upgraded to the latest', async () => {
    const database = openAt(1);
    const runId = insertRun(database, 'old run');
    database.prepare(`INSERT INTO metrics VALUES (?, 'loss', 1, 0, 2, ?)`).run(runId, T);
    database.close();
    const store = openSqliteStore({ dataDir: data.dir });
    try {
      expect(store.opened.migration).toMatchObject({ from: 1, to: LATEST_SCHEMA_VERSION });
      const run = await store.runs.get(runId);
      expect(run).toMatchObject({ name: 'old run', status: 'completed', config: { lr: 0.001 }, trialId: null });
      expect(await store.tasks.get(run?.taskId as number)).toMatchObject({ kind: 'training', state: 'completed', subject: { type: 'run', id: runId }, params: { runId } });
      expect((await store.metrics.series(runId, 'loss')).points).toHaveLength(1);
    } finally {
      await store.close();
    }
  });
});

describe('refusals', () => {
  it('refuses a database newer than the code, with a message saying what to do, and leaves it as it was', () => {
    const database = openAt(LATEST_SCHEMA_VERSION);
    database.pragma('user_version = 99');
    database.close();
    let error: unknown;
    try {
      openSqliteStore({ dataDir: data.dir });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(NewerDatabaseError);
    const message = (error as Error).message;
    expect(message).toContain(databasePath(data.dir));
    expect(message).toContain('schema version 99');
    expect(message).toContain(`up to ${LATEST_SCHEMA_VERSION}`);
    expect(message).toMatch(/update the workbench/);
    db = openDatabase(databasePath(data.dir));
    expect(schemaVersion(db)).toBe(99);
  });

  it('rolls a failing migration back completely: its tables and its version number', () => {
    const database = openAt(2);
    const failing: Migration = {
      version: 3,
      name: 'broken',
      up(inner) {
        inner.exec('CREATE TABLE half_done (id INTEGER PRIMARY KEY) STRICT');
        inner.exec(`INSERT INTO runs (name, status, config, created_at) VALUES ('x', 'queued', '{}', 1)`);
        throw new Error('disk full (simulated)');
      },
    };
    expect(() => migrate(database, [...migrations.slice(0, 2), failing])).toThrow(/0003-broken failed.*schema version 2.*disk full/);
    expect(schemaVersion(database)).toBe(2);
    expect(tables(database)).not.toContain('half_done');
    expect(database.prepare('SELECT COUNT(*) FROM runs').pluck().get()).toBe(0);
    // A corrected migration then applies cleanly.
    expect(migrate(database, migrations.slice(0, 3)).to).toBe(3);
  });

  it('refuses a migration list with a gap or a wrong number', () => {
    expect(() => checkMigrationList([migrations[0] as Migration, migrations[2] as Migration])).toThrow(/tuning.*version 3; expected 2/);
    expect(() => checkMigrationList(migrations)).not.toThrow();
  });

  it('names the file when the database cannot be opened', () => {
    openDatabase(join(data.dir, 'missing-folder-is-created', 'workbench.db')).close();
    expect(() => openDatabase(data.dir)).toThrow(new RegExp(`Cannot open the workbench database ${data.dir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
  });
});
