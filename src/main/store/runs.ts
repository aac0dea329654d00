/**
 * Runs in SQLite: creation (with the run's training task), listing, the
 * status facade over that task, deletion with files, resume points.
 */
import { ApiError } from '../../shared/errors';
import type { ResumePoint, RunDeleted, RunRecord, RunStatus } from '../../shared/storeTypes';
import { commit } from './changes';
import { notify, type SqliteContext } from './context';
import { objectJson } from './json';
import { sqliteDialect } from './dialect';
import { readRun, requireRunStatus, resumePointOf, runEdit, runListQuery, runPlacementUpdate, SELECT_RUNS, toRunRecord, type RunRow } from './runRows';
import type { NewRun, RunFilter, RunStore, RunUpdate, StatusChange } from './storage';
import { moveTaskAsFacade, runStatusTarget } from './taskFacade';
import type { SqliteTaskStore } from './tasks';
import { normalizeTags, notFound, requireId, requireText } from './validate';

export class SqliteRunStore implements RunStore {
  constructor(
    private readonly context: SqliteContext,
    private readonly tasks: SqliteTaskStore,
  ) {}

  private get db() {
    return this.context.db;
  }

  /** Synchronous read for other SQLite repositories (inside their transactions). */
  getSync(id: number): RunRecord | null {
    return readRun(this.context, id);
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
    if (input.taskParams !== undefined) objectJson(input.taskParams, 'taskParams');
    const id = commit(this.context, (changes) => {
      if (input.datasetId != null && !this.db.prepare('SELECT 1 FROM datasets WHERE id = ?').get(input.datasetId)) {
        notFound('Dataset', input.datasetId);
      }
      const id = this.db
        .prepare(
          `INSERT INTO runs (name, status, config, dataset_id, backend, machine, notes, tags, created_at)
           VALUES (?, 'queued', ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
        )
        .pluck()
        .get(
          input.name?.trim() ?? '',
          config,
          input.datasetId ?? null,
          input.backend ?? null,
          input.machine ?? null,
          input.notes ?? '',
          JSON.stringify(normalizeTags(input.tags ?? [])),
          this.context.clock(),
        ) as number;
      const name = input.name?.trim() || `run-${id}`;
      const taskId = this.tasks.insertSync(
        { kind: 'training', title: `Training run ${id} (${name})`, params: input.taskParams ?? { runId: id }, subject: { type: 'run', id }, placement: input.placement ?? 'any' },
        changes,
      );
      this.db.prepare('UPDATE runs SET name = ?, task_id = ? WHERE id = ?').run(name, taskId, id);
      if (status === 'running') this.tasks.claimByIdSync(taskId, this.context.taskOwner, changes);
      changes.runs.add(id);
      return id;
    });
    return this.requireSync(id);
  }

  async get(id: number): Promise<RunRecord | null> {
    return this.getSync(id);
  }

  async list(filter: RunFilter = {}): Promise<{ runs: RunRecord[]; total: number }> {
    const { clause, params, page } = runListQuery(filter, sqliteDialect);
    const total = (this.db.prepare(`SELECT COUNT(*) FROM runs r${clause}`).pluck().get(...params) as number) ?? 0;
    const rows = this.db.prepare(`${SELECT_RUNS}${clause} ORDER BY r.created_at DESC, r.id DESC LIMIT ? OFFSET ?`).all(...params, ...page) as RunRow[];
    return { runs: rows.map((row) => toRunRecord(this.context, row)), total };
  }

  async update(id: number, update: RunUpdate): Promise<RunRecord> {
    this.requireSync(id);
    const edit = runEdit(update);
    if (edit) this.db.prepare(edit.sql).run(...edit.params, id);
    const run = this.requireSync(id);
    notify(this.context.hooks.onRunChanged, run);
    return run;
  }

  async setStatus(id: number, status: RunStatus, change: StatusChange = {}): Promise<RunRecord> {
    requireRunStatus(status);
    commit(this.context, (changes) => {
      const run = this.requireSync(id);
      if (status !== run.status) {
        if (status === 'queued') throw new ApiError('conflict', `Run ${id} is ${run.status} and cannot become queued again.`);
        moveTaskAsFacade(
          this.tasks,
          this.context.taskOwner,
          { what: `Run ${id}`, from: run.status, to: status, taskId: run.taskId, target: runStatusTarget(status), error: change.error },
          changes,
        );
      } else if (change.error !== undefined && status !== 'running' && status !== 'queued') {
        this.db.prepare('UPDATE runs SET error = ? WHERE id = ?').run(change.error, id);
      }
      const placement = runPlacementUpdate(change);
      if (placement) this.db.prepare(placement.sql).run(...placement.params, id);
      changes.runs.add(id);
    });
    return this.requireSync(id);
  }

  async heartbeat(id: number): Promise<void> {
    commit(this.context, () => {
      const run = this.requireSync(id);
      if (run.taskId === null) throw new ApiError('conflict', `Run ${id} is ${run.status} and its task was deleted; it takes no heartbeats.`);
      this.tasks.heartbeatSync(run.taskId, this.context.taskOwner, null);
      // A tuning trial lives as long as its run does.
      this.db
        .prepare(`UPDATE tasks SET heartbeat_at = ? WHERE id = (SELECT task_id FROM trials WHERE run_id = ?) AND state IN ('running', 'stopping')`)
        .run(this.context.clock(), id);
    });
  }

  async delete(id: number, options: { force?: boolean } = {}): Promise<RunDeleted> {
    const paths = commit(this.context, (changes) => {
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
      // Its training task goes with it (with force, even a running one: its
      // executor's next heartbeat then finds it gone).
      if (run.taskId !== null) {
        this.db.prepare('DELETE FROM tasks WHERE id = ?').run(run.taskId);
        changes.deletedTasks.add(run.taskId);
      }
      return stored;
    });
    // Files go after the commit: a failed delete must never leave rows
    // pointing at files that are already gone.
    const { removed, failed } = this.context.files.removeRun(id, paths);
    if (failed.length) notify(this.context.hooks.onError, `Run ${id} was deleted, but these files could not be removed: ${failed.join(', ')}`);
    notify(this.context.hooks.onRunDeleted, id);
    return { runId: id, filesRemoved: removed };
  }

  async resumePoint(id: number): Promise<ResumePoint | null> {
    return resumePointOf(this.requireSync(id));
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
}
