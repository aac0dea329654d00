/** Runs in SQLite: creation, listing, status changes, heartbeats, deletion with files, resume points. */
import { ApiError } from '../../shared/errors';
import type { ResumePoint, RunDeleted, RunRecord, RunStatus } from '../../shared/storeTypes';
import { RUN_STATUSES } from '../../shared/storeTypes';
import { isoTime } from './clock';
import { notify, type SqliteContext } from './context';
import { objectJson, parseObject, parseStringArray } from './json';
import type { NewRun, RunFilter, RunStore, RunUpdate, StatusChange } from './storage';
import { checkRunTransition, TERMINAL_RUN_STATUSES } from './transitions';
import { normalizeTags, notFound, requireId, requireText } from './validate';

interface RunRow {
  id: number;
  name: string;
  status: RunStatus;
  config: string;
  dataset_id: number | null;
  backend: string | null;
  machine: string | null;
  notes: string;
  tags: string;
  error: string | null;
  created_at: number;
  started_at: number | null;
  finished_at: number | null;
  heartbeat_at: number | null;
  trial_id: number | null;
  checkpoint_id: number | null;
  checkpoint_path: string | null;
  checkpoint_epoch: number | null;
  checkpoint_step: number | null;
}

/** Runs with their trial and newest checkpoint; callers append WHERE/ORDER clauses. */
const SELECT_RUNS = `
  SELECT r.id, r.name, r.status, r.config, r.dataset_id, r.backend, r.machine, r.notes, r.tags, r.error,
         r.created_at, r.started_at, r.finished_at, r.heartbeat_at,
         (SELECT t.id FROM trials t WHERE t.run_id = r.id) AS trial_id,
         c.id AS checkpoint_id, c.path AS checkpoint_path, c.epoch AS checkpoint_epoch, c.step AS checkpoint_step
    FROM runs r
    LEFT JOIN checkpoints c
      ON c.id = (SELECT id FROM checkpoints WHERE run_id = r.id ORDER BY step DESC, id DESC LIMIT 1)`;

export class SqliteRunStore implements RunStore {
  constructor(private readonly context: SqliteContext) {}

  private get db() {
    return this.context.db;
  }

  private toRecord(row: RunRow): RunRecord {
    return {
      id: row.id,
      name: row.name,
      status: row.status,
      config: parseObject(row.config),
      datasetId: row.dataset_id,
      trialId: row.trial_id,
      backend: row.backend,
      machine: row.machine,
      notes: row.notes,
      tags: parseStringArray(row.tags),
      error: row.error,
      createdAt: isoTime(row.created_at),
      startedAt: isoTime(row.started_at),
      finishedAt: isoTime(row.finished_at),
      heartbeatAt: isoTime(row.heartbeat_at),
      lastCheckpoint:
        row.checkpoint_id === null
          ? null
          : {
              checkpointId: row.checkpoint_id,
              path: this.context.files.toAbsolute(row.checkpoint_path as string),
              epoch: row.checkpoint_epoch as number,
              step: row.checkpoint_step as number,
            },
    };
  }

  /** Synchronous read for other SQLite repositories (inside their transactions). */
  getSync(id: number): RunRecord | null {
    const row = this.db.prepare(`${SELECT_RUNS} WHERE r.id = ?`).get(id) as RunRow | undefined;
    return row ? this.toRecord(row) : null;
  }

  requireSync(id: number): RunRecord {
    requireId(id, 'runId');
    return this.getSync(id) ?? notFound('Run', id);
  }

  async create(input: NewRun): Promise<RunRecord> {
    const config = objectJson(input.config, 'config');
    const status = input.status ?? 'queued';
    if (status !== 'queued' && status !== 'running') {
      throw new ApiError('invalid_request', `A new run starts queued or running, not ${String(status)}.`, [
        { path: 'status', message: 'expected queued or running' },
      ]);
    }
    if (input.name !== undefined) requireText(input.name, 'name', 200);
    if (input.datasetId != null) requireId(input.datasetId, 'datasetId');
    const now = this.context.clock();
    const { host, pid } = this.context.owner;
    const running = status === 'running';
    const id = this.db.transaction(() => {
      if (input.datasetId != null && !this.db.prepare('SELECT 1 FROM datasets WHERE id = ?').get(input.datasetId)) {
        notFound('Dataset', input.datasetId);
      }
      const result = this.db
        .prepare(
          `INSERT INTO runs (name, status, config, dataset_id, backend, machine, owner_host, owner_pid, notes, tags,
                             created_at, started_at, heartbeat_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(
          input.name?.trim() ?? '',
          status,
          config,
          input.datasetId ?? null,
          input.backend ?? null,
          input.machine ?? null,
          host,
          pid,
          input.notes ?? '',
          JSON.stringify(normalizeTags(input.tags ?? [])),
          now,
          running ? now : null,
          running ? now : null,
        );
      const id = Number(result.lastInsertRowid);
      if (!input.name?.trim()) this.db.prepare('UPDATE runs SET name = ? WHERE id = ?').run(`run-${id}`, id);
      return id;
    })();
    return this.changed(id);
  }

  async get(id: number): Promise<RunRecord | null> {
    return this.getSync(id);
  }

  async list(filter: RunFilter = {}): Promise<{ runs: RunRecord[]; total: number }> {
    const where: string[] = [];
    const params: unknown[] = [];
    if (filter.status?.length) {
      for (const status of filter.status) {
        if (!RUN_STATUSES.includes(status)) {
          throw new ApiError('invalid_request', `status "${String(status)}" is not one of ${RUN_STATUSES.join(', ')}.`);
        }
      }
      where.push(`r.status IN (${filter.status.map(() => '?').join(', ')})`);
      params.push(...filter.status);
    }
    if (filter.tag) {
      where.push('EXISTS (SELECT 1 FROM json_each(r.tags) WHERE json_each.value = ?)');
      params.push(filter.tag);
    }
    if (filter.search) {
      const pattern = `%${filter.search.replace(/[\\%_]/g, (char) => `\\${char}`)}%`;
      where.push(`(r.name LIKE ? ESCAPE '\\' OR r.notes LIKE ? ESCAPE '\\')`);
      params.push(pattern, pattern);
    }
    if (filter.datasetId !== undefined) {
      where.push('r.dataset_id = ?');
      params.push(filter.datasetId);
    }
    const clause = where.length ? ` WHERE ${where.join(' AND ')}` : '';
    const total = (this.db.prepare(`SELECT COUNT(*) FROM runs r${clause}`).pluck().get(...params) as number) ?? 0;
    const limit = filter.limit ?? -1;
    const offset = filter.offset ?? 0;
    const rows = this.db
      .prepare(`${SELECT_RUNS}${clause} ORDER BY r.created_at DESC, r.id DESC LIMIT ? OFFSET ?`)
      .all(...params, limit, offset) as RunRow[];
    return { runs: rows.map((row) => this.toRecord(row)), total };
  }

  async update(id: number, update: RunUpdate): Promise<RunRecord> {
    this.requireSync(id);
    const sets: string[] = [];
    const params: unknown[] = [];
    if (update.name !== undefined) {
      sets.push('name = ?');
      params.push(requireText(update.name, 'name', 200).trim());
    }
    if (update.notes !== undefined) {
      sets.push('notes = ?');
      params.push(update.notes);
    }
    if (update.tags !== undefined) {
      sets.push('tags = ?');
      params.push(JSON.stringify(normalizeTags(update.tags)));
    }
    if (sets.length) this.db.prepare(`UPDATE runs SET ${sets.join(', ')} WHERE id = ?`).run(...params, id);
    return this.changed(id);
  }

  async setStatus(id: number, status: RunStatus, change: StatusChange = {}): Promise<RunRecord> {
    if (!RUN_STATUSES.includes(status)) {
      throw new ApiError('invalid_request', `status "${String(status)}" is not one of ${RUN_STATUSES.join(', ')}.`);
    }
    this.db.transaction(() => {
      const current = this.requireSync(id);
      checkRunTransition(`Run ${id}`, current.status, status);
      const now = this.context.clock();
      const sets: string[] = ['status = ?'];
      const params: unknown[] = [status];
      if (status === 'running' && current.status !== 'running') {
        const { host, pid } = this.context.owner;
        sets.push('owner_host = ?', 'owner_pid = ?', 'heartbeat_at = ?', 'finished_at = NULL', 'error = NULL');
        params.push(host, pid, now);
        if (current.startedAt === null) {
          sets.push('started_at = ?');
          params.push(now);
        }
      }
      if (TERMINAL_RUN_STATUSES.includes(status) && status !== current.status) {
        sets.push('finished_at = ?');
        params.push(now);
      }
      if (change.error !== undefined) {
        sets.push('error = ?');
        params.push(change.error);
      }
      if (change.backend !== undefined) {
        sets.push('backend = ?');
        params.push(change.backend);
      }
      if (change.machine !== undefined) {
        sets.push('machine = ?');
        params.push(change.machine);
      }
      this.db.prepare(`UPDATE runs SET ${sets.join(', ')} WHERE id = ?`).run(...params, id);
    })();
    return this.changed(id);
  }

  async heartbeat(id: number): Promise<void> {
    requireId(id, 'runId');
    const now = this.context.clock();
    this.db.transaction(() => {
      const result = this.db.prepare('UPDATE runs SET heartbeat_at = ? WHERE id = ?').run(now, id);
      if (result.changes === 0) notFound('Run', id);
      // A tuning trial lives as long as its run does.
      this.db.prepare(`UPDATE trials SET heartbeat_at = ? WHERE run_id = ? AND state = 'running'`).run(now, id);
    })();
  }

  async delete(id: number, options: { force?: boolean } = {}): Promise<RunDeleted> {
    const paths = this.db.transaction(() => {
      const run = this.requireSync(id);
      if ((run.status === 'running' || run.status === 'queued') && !options.force) {
        throw new ApiError(
          'conflict',
          `Run ${id} (${run.name}) is ${run.status}; stop it first, or delete it with force.`,
        );
      }
      const stored = this.db
        .prepare('SELECT path FROM checkpoints WHERE run_id = ? UNION SELECT path FROM artifacts WHERE run_id = ?')
        .pluck()
        .all(id, id) as string[];
      // Cascades to metrics, checkpoints, artifacts, samples and evaluations;
      // trials and batch jobs keep their rows with the link cleared.
      this.db.prepare('DELETE FROM runs WHERE id = ?').run(id);
      return stored;
    })();
    // Files go after the commit: a failed delete must never leave rows
    // pointing at files that are already gone.
    const { removed, failed } = this.context.files.removeRun(id, paths);
    if (failed.length) notify(this.context.hooks.onError, `Run ${id} was deleted, but these files could not be removed: ${failed.join(', ')}`);
    notify(this.context.hooks.onRunDeleted, id);
    return { runId: id, filesRemoved: removed };
  }

  async resumePoint(id: number): Promise<ResumePoint | null> {
    const run = this.requireSync(id);
    if (!run.lastCheckpoint) return null;
    return {
      runId: run.id,
      status: run.status,
      config: run.config,
      checkpointPath: run.lastCheckpoint.path,
      epoch: run.lastCheckpoint.epoch,
      step: run.lastCheckpoint.step,
    };
  }

  async tags(): Promise<string[]> {
    return this.db
      .prepare('SELECT DISTINCT json_each.value FROM runs, json_each(runs.tags) ORDER BY 1')
      .pluck()
      .all() as string[];
  }

  async directory(id: number): Promise<string> {
    this.requireSync(id);
    return this.context.files.runDirectory(id);
  }

  /** Reads the run back and tells listeners it changed. */
  private changed(id: number): RunRecord {
    const run = this.requireSync(id);
    notify(this.context.hooks.onRunChanged, run);
    return run;
  }
}

