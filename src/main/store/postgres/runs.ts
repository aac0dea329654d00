/**
 * Runs in PostgreSQL: creation (with the run's training task), listing, the
 * status facade over that task, deletion with files, resume points.
 */
import { ApiError } from '../../../shared/errors';
import type { ResumePoint, RunDeleted, RunRecord, RunStatus } from '../../../shared/storeTypes';
import { notify } from '../context';
import { objectJson } from '../json';
import type { NewRun, RunFilter, RunStore, RunUpdate, StatusChange } from '../storage';
import { normalizeTags, notFound, requireId, requireText } from '../validate';
import { commit, type PgContext } from './context';
import { postgresDialect } from '../dialect';
import { requireRunStatus, resumePointOf, runEdit, runListQuery, runPlacementUpdate } from '../runRows';
import { readRun, SELECT_RUNS, toRunRecord, type RunRow } from './runRows';
import type { Sql } from './sql';
import { moveTaskAsFacade, runStatusTarget } from './taskFacade';
import type { PgTaskStore } from './tasks';

export class PgRunStore implements RunStore {
  constructor(
    private readonly context: PgContext,
    private readonly tasks: PgTaskStore,
  ) {}

  private get sql(): Sql {
    return this.context.db.sql;
  }

  async requireIn(sql: Sql, id: number): Promise<RunRecord> {
    requireId(id, 'runId');
    return (await readRun(this.context, sql, id)) ?? notFound('Run', id);
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
    const id = await commit(this.context, async (sql, changes) => {
      if (input.datasetId != null && !(await sql.one('SELECT 1 FROM datasets WHERE id = ?', [input.datasetId]))) {
        notFound('Dataset', input.datasetId);
      }
      const id = (await sql.value<number>(
        `INSERT INTO runs (name, status, config, dataset_id, backend, machine, notes, tags, created_at)
         VALUES (?, 'queued', ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
        [
          input.name?.trim() ?? '',
          config,
          input.datasetId ?? null,
          input.backend ?? null,
          input.machine ?? null,
          input.notes ?? '',
          JSON.stringify(normalizeTags(input.tags ?? [])),
          this.context.clock(),
        ],
      )) as number;
      const name = input.name?.trim() || `run-${id}`;
      const taskId = await this.tasks.insertIn(
        sql,
        { kind: 'training', title: `Training run ${id} (${name})`, params: input.taskParams ?? { runId: id }, subject: { type: 'run', id }, placement: input.placement ?? 'any' },
        changes,
      );
      await sql.run('UPDATE runs SET name = ?, task_id = ? WHERE id = ?', [name, taskId, id]);
      if (status === 'running') await this.tasks.claimByIdIn(sql, taskId, this.context.taskOwner, changes);
      changes.runs.add(id);
      return id;
    });
    return this.requireIn(this.sql, id);
  }

  async get(id: number): Promise<RunRecord | null> {
    return readRun(this.context, this.sql, id);
  }

  async list(filter: RunFilter = {}): Promise<{ runs: RunRecord[]; total: number }> {
    const { clause, params, page } = runListQuery(filter, postgresDialect);
    const total = (await this.sql.value<number>(`SELECT COUNT(*) FROM runs r${clause}`, params)) ?? 0;
    const rows = await this.sql.all<RunRow>(`${SELECT_RUNS}${clause} ORDER BY r.created_at DESC, r.id DESC LIMIT ? OFFSET ?`, [...params, ...page]);
    return { runs: rows.map((row) => toRunRecord(this.context, row)), total };
  }

  async update(id: number, update: RunUpdate): Promise<RunRecord> {
    await this.requireIn(this.sql, id);
    const edit = runEdit(update);
    if (edit) await this.sql.run(edit.sql, [...edit.params, id]);
    const run = await this.requireIn(this.sql, id);
    notify(this.context.hooks.onRunChanged, run);
    return run;
  }

  async setStatus(id: number, status: RunStatus, change: StatusChange = {}): Promise<RunRecord> {
    requireRunStatus(status);
    await commit(this.context, async (sql, changes) => {
      // The row lock orders concurrent status changes of one run.
      await sql.run('SELECT 1 FROM runs WHERE id = ? FOR UPDATE', [id]);
      const run = await this.requireIn(sql, id);
      if (status !== run.status) {
        if (status === 'queued') throw new ApiError('conflict', `Run ${id} is ${run.status} and cannot become queued again.`);
        await moveTaskAsFacade(
          sql,
          this.tasks,
          this.context.taskOwner,
          { what: `Run ${id}`, from: run.status, to: status, taskId: run.taskId, target: runStatusTarget(status), error: change.error },
          changes,
        );
      } else if (change.error !== undefined && status !== 'running' && status !== 'queued') {
        await sql.run('UPDATE runs SET error = ? WHERE id = ?', [change.error, id]);
      }
      const placement = runPlacementUpdate(change);
      if (placement) await sql.run(placement.sql, [...placement.params, id]);
      changes.runs.add(id);
    });
    return this.requireIn(this.sql, id);
  }

  async heartbeat(id: number): Promise<void> {
    await commit(this.context, async (sql) => {
      const run = await this.requireIn(sql, id);
      if (run.taskId === null) throw new ApiError('conflict', `Run ${id} is ${run.status} and its task was deleted; it takes no heartbeats.`);
      await this.tasks.heartbeatIn(sql, run.taskId, this.context.taskOwner, null);
      await sql.run(
        `UPDATE tasks SET heartbeat_at = ? WHERE id = (SELECT task_id FROM trials WHERE run_id = ?) AND state IN ('running', 'stopping')`,
        [this.context.clock(), id],
      );
    });
  }

  async delete(id: number, options: { force?: boolean } = {}): Promise<RunDeleted> {
    const paths = await commit(this.context, async (sql, changes) => {
      const run = await this.requireIn(sql, id);
      if ((run.status === 'running' || run.status === 'queued') && !options.force) {
        throw new ApiError('conflict', `Run ${id} (${run.name}) is ${run.status}; stop it first, or delete it with force.`);
      }
      const stored = await sql.column<string>('SELECT path FROM checkpoints WHERE run_id = ? UNION SELECT path FROM artifacts WHERE run_id = ?', [id, id]);
      await sql.run('DELETE FROM runs WHERE id = ?', [id]);
      if (run.taskId !== null) {
        await sql.run('DELETE FROM tasks WHERE id = ?', [run.taskId]);
        changes.deletedTasks.add(run.taskId);
      }
      return stored;
    });
    const { removed, failed } = this.context.files.removeRun(id, paths);
    if (failed.length) notify(this.context.hooks.onError, `Run ${id} was deleted, but these files could not be removed: ${failed.join(', ')}`);
    notify(this.context.hooks.onRunDeleted, id);
    return { runId: id, filesRemoved: removed };
  }

  async resumePoint(id: number): Promise<ResumePoint | null> {
    return resumePointOf(await this.requireIn(this.sql, id));
  }

  async tags(): Promise<string[]> {
    const tags = await this.sql.column<string>('SELECT DISTINCT tag.value FROM runs, jsonb_array_elements_text(runs.tags) AS tag(value)');
    // Code-point order, as SQLite sorts, whatever the database's collation.
    return tags.sort();
  }

  async directory(id: number): Promise<string> {
    await this.requireIn(this.sql, id);
    return this.context.files.runDirectory(id);
  }
}
