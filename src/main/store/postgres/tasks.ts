/**
 * Tasks in PostgreSQL: the lifecycle of every long job (rules on `TaskStore`
 * in ../storage.ts), safe for any number of workers on any number of
 * machines sharing the database.
 *
 * - Claims lock the oldest queued row with `FOR UPDATE SKIP LOCKED` and move
 *   it to running in the same statement: concurrent claimers never wait on
 *   each other and never get the same task.
 * - Every other transition is a compare-and-set on the row's state (and
 *   owner where only the owner may act), exact under READ COMMITTED: a row
 *   changed by someone else after it was read is not overwritten, and the
 *   caller gets a `conflict`.
 *
 * The `...In` methods run inside a caller's transaction, so the run, batch
 * job and study stores create or move their task together with their rows;
 * each one brings the task's domain row in step (domainSync.ts).
 */
import { ApiError } from '../../../shared/errors';
import type { JsonObject, JsonValue } from '../../../shared/storeTypes';
import { isFinalTaskState, TASK_KINDS, TASK_STATES, type TaskKind, type TaskOwner, type TaskPlacement, type TaskProgress, type TaskRecord } from '../../../shared/taskTypes';
import { isoTime } from '../clock';
import { objectJson } from '../json';
import type { ClaimOptions, HeartbeatAnswer, NewTask, ResumeOptions, TaskEnd, TaskFilter, TaskStore } from '../storage';
import { resultOf, type TaskRow } from '../taskRows';
import { checkTaskTransition, isLive, transitionConflict } from '../taskStates';
import { claimPlacements, requireOwner, requirePlacement } from '../tasks';
import { notFound, requireId, requireIntegerIn, requireText } from '../validate';
import { commit, type Changes, type PgContext } from './context';
import { syncDomain } from './domainSync';
import type { Sql } from './sql';
import { readTask, readTaskRow, withQueuePositions } from './taskRows';

const SUBJECT_TYPES = ['run', 'evaluation', 'dataset', 'batchJob', 'study', 'trial'] as const;
const END_STATES = ['completed', 'failed', 'cancelled', 'crashed'] as const;

function invalid(field: string, message: string): never {
  throw new ApiError('invalid_request', `${field} ${message}.`, [{ path: field, message }]);
}

function requireKinds(kinds: readonly TaskKind[], field: string): readonly TaskKind[] {
  if (!Array.isArray(kinds) || kinds.length === 0) invalid(field, `must name at least one of ${TASK_KINDS.join(', ')}`);
  kinds.forEach((kind, index) => {
    if (!TASK_KINDS.includes(kind)) invalid(`${field}[${index}]`, `must be one of ${TASK_KINDS.join(', ')} (got ${String(kind)})`);
  });
  return kinds;
}

function optionalNumber(value: unknown, field: string): void {
  if (value !== null && (typeof value !== 'number' || !Number.isFinite(value))) invalid(field, 'must be a finite number or null');
}

function progressJson(progress: TaskProgress): string {
  if (progress === null || typeof progress !== 'object' || Array.isArray(progress)) invalid('progress', 'must be an object');
  requireText(progress.stage, 'progress.stage', 500);
  if (typeof progress.done !== 'number' || !Number.isFinite(progress.done) || progress.done < 0) {
    invalid('progress.done', 'must be a finite number of at least 0');
  }
  optionalNumber(progress.total, 'progress.total');
  if (typeof progress.unit !== 'string') invalid('progress.unit', 'must be a string');
  optionalNumber(progress.throughput, 'progress.throughput');
  optionalNumber(progress.etaSeconds, 'progress.etaSeconds');
  if (progress.message !== undefined && typeof progress.message !== 'string') invalid('progress.message', 'must be a string');
  return JSON.stringify(progress);
}

function describeOwner(owner: { host: string | null; pid: number | null; worker: string | null }): string {
  return `worker ${owner.worker ?? '?'} of process ${owner.pid ?? '?'} on ${owner.host ?? '?'}`;
}

function sameOwner(row: TaskRow, owner: TaskOwner): boolean {
  return row.owner_host === owner.host && row.owner_pid === owner.pid && row.owner_worker === owner.worker;
}

function silentSeconds(row: TaskRow, now: number): { since: number; seconds: number } {
  const since = row.heartbeat_at ?? row.started_at ?? row.created_at;
  return { since, seconds: Math.max(0, Math.round((now - since) / 1000)) };
}

function keepHistory(result: JsonObject, stored: JsonObject | null): JsonObject {
  if (stored?.previousErrors === undefined || result.previousErrors !== undefined) return result;
  return { ...result, previousErrors: stored.previousErrors };
}

export class PgTaskStore implements TaskStore {
  constructor(private readonly context: PgContext) {}

  private get sql(): Sql {
    return this.context.db.sql;
  }

  // ─── reads ────────────────────────────────────────────────────────────────

  async requireRow(sql: Sql, id: number, forUpdate = false): Promise<TaskRow> {
    requireId(id, 'taskId');
    return (await readTaskRow(sql, id, forUpdate)) ?? notFound('Task', id);
  }

  async get(id: number): Promise<TaskRecord | null> {
    return readTask(this.sql, id);
  }

  async list(filter: TaskFilter = {}): Promise<TaskRecord[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    if (filter.states?.length) {
      filter.states.forEach((state, index) => {
        if (!TASK_STATES.includes(state)) invalid(`states[${index}]`, `must be one of ${TASK_STATES.join(', ')} (got ${String(state)})`);
      });
      where.push('t.state = ANY(?)');
      params.push([...filter.states]);
    }
    if (filter.kinds?.length) {
      requireKinds(filter.kinds, 'kinds');
      where.push('t.kind = ANY(?)');
      params.push([...filter.kinds]);
    }
    if (filter.parentId !== undefined) {
      where.push('t.parent_id = ?');
      params.push(requireId(filter.parentId, 'parentId'));
    }
    if (filter.subject !== undefined) {
      if (!SUBJECT_TYPES.includes(filter.subject.type)) invalid('subject.type', `must be one of ${SUBJECT_TYPES.join(', ')}`);
      where.push('t.subject_type = ? AND t.subject_id = ?');
      params.push(filter.subject.type, requireId(filter.subject.id, 'subject.id'));
    }
    const limit = filter.limit === undefined ? 200 : requireIntegerIn(filter.limit, 'limit', 1, 100_000);
    const clause = where.length ? ` WHERE ${where.join(' AND ')}` : '';
    // One snapshot for the page and the queue positions.
    return this.context.db.transaction(async (sql) => {
      await sql.run('SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY');
      const rows = await sql.all<TaskRow>(`SELECT t.* FROM tasks t${clause} ORDER BY t.created_at DESC, t.id DESC LIMIT ?`, [...params, limit]);
      return withQueuePositions(sql, rows);
    });
  }

  // ─── the public transitions ───────────────────────────────────────────────

  async create(input: NewTask): Promise<TaskRecord> {
    const id = await commit(this.context, (sql, changes) => this.insertIn(sql, input, changes));
    return this.require(id);
  }

  async claim(owner: TaskOwner, kinds: readonly TaskKind[], options?: ClaimOptions): Promise<TaskRecord | null> {
    requireOwner(owner);
    requireKinds(kinds, 'kinds');
    const placements = claimPlacements(options);
    const id = await commit(this.context, async (sql, changes) => {
      const now = this.context.clock();
      // SKIP LOCKED: a row another worker is claiming right now is passed
      // over instead of waited for; the next queued one is taken.
      const row = await sql.one<TaskRow>(
        `UPDATE tasks SET state = 'running', owner_host = ?, owner_pid = ?, owner_worker = ?, heartbeat_at = ?,
                          started_at = COALESCE(started_at, ?), finished_at = NULL, attempts = attempts + 1
          WHERE id = (SELECT id FROM tasks WHERE state = 'queued' AND kind = ANY(?) AND placement = ANY(?)
                       ORDER BY created_at, id LIMIT 1 FOR UPDATE SKIP LOCKED)
            AND state = 'queued'
          RETURNING *`,
        [owner.host, owner.pid, owner.worker, now, now, [...kinds], [...placements]],
      );
      if (!row) return null;
      await this.moved(sql, row, now, changes);
      return row.id;
    });
    return id === null ? null : this.require(id);
  }

  async claimById(id: number, owner: TaskOwner): Promise<TaskRecord | null> {
    requireOwner(owner);
    const claimed = await commit(this.context, async (sql, changes) => {
      await this.requireRow(sql, id);
      return this.claimByIdIn(sql, id, owner, changes);
    });
    return claimed ? this.require(id) : null;
  }

  async heartbeat(id: number, owner: TaskOwner, progress?: TaskProgress | null): Promise<HeartbeatAnswer> {
    requireOwner(owner);
    const progressText = progress == null ? null : progressJson(progress);
    return commit(this.context, (sql) => this.heartbeatIn(sql, id, owner, progressText));
  }

  async finish(id: number, owner: TaskOwner, end: TaskEnd): Promise<TaskRecord> {
    requireOwner(owner);
    await commit(this.context, (sql, changes) => this.finishIn(sql, id, owner, end, changes));
    return this.require(id);
  }

  async requestStop(id: number, reason?: string): Promise<boolean> {
    if (reason !== undefined) requireText(reason, 'reason', 2000);
    return commit(this.context, (sql, changes) => this.requestStopIn(sql, id, reason ?? null, changes));
  }

  async resume(id: number, options: ResumeOptions = {}): Promise<TaskRecord> {
    if (options.placement !== undefined) requirePlacement(options.placement);
    await commit(this.context, (sql, changes) => this.resumeIn(sql, id, changes, options.placement));
    return this.require(id);
  }

  async place(id: number, placement: TaskPlacement): Promise<TaskRecord> {
    requirePlacement(placement);
    await commit(this.context, async (sql, changes) => {
      const current = await this.requireRow(sql, id);
      if (current.placement === placement) return;
      if (current.state !== 'queued') {
        throw new ApiError('conflict', `Task ${id} (${current.title}) is ${current.state}; only a queued task can be given to ${placement === 'workers' ? 'the workers' : 'any executor'}.`);
      }
      const row = await sql.one<TaskRow>(`UPDATE tasks SET placement = ? WHERE id = ? AND state = 'queued' RETURNING *`, [placement, id]);
      if (!row) throw await this.lostRace(sql, id);
      changes.tasks.add(id);
    });
    return this.require(id);
  }

  async recoverStale(options: { staleAfterMs: number; now?: number }): Promise<TaskRecord[]> {
    const ids = await this.recoverStaleIds(options);
    const tasks: TaskRecord[] = [];
    for (const id of ids) {
      const task = await readTask(this.sql, id);
      if (task) tasks.push(task);
    }
    return tasks;
  }

  /** `recoverStale` as the ids it crashed, in id order. */
  async recoverStaleIds(options: { staleAfterMs: number; now?: number }): Promise<number[]> {
    const { staleAfterMs } = options;
    if (typeof staleAfterMs !== 'number' || !Number.isFinite(staleAfterMs) || staleAfterMs < 0) {
      invalid('staleAfterMs', 'must be a non-negative number of milliseconds');
    }
    return commit(this.context, async (sql, changes) => {
      const now = options.now ?? this.context.clock();
      const live = await sql.all<TaskRow>(`SELECT * FROM tasks WHERE state IN ('running', 'stopping') ORDER BY id`);
      const crashed: number[] = [];
      for (const row of live) {
        const reason = this.staleReason(row, now, staleAfterMs);
        if (reason !== null && (await this.crashIn(sql, row, reason, changes))) crashed.push(row.id);
      }
      return crashed;
    });
  }

  async delete(id: number): Promise<void> {
    await commit(this.context, async (sql, changes) => {
      const row = await this.requireRow(sql, id);
      if (!isFinalTaskState(row.state)) {
        throw new ApiError('conflict', `Task ${id} (${row.title}) is ${row.state}; only a finished task can be deleted. Stop it first.`);
      }
      await sql.run(`DELETE FROM tasks WHERE id = ? AND state IN ('completed', 'failed', 'cancelled', 'crashed')`, [id]);
      changes.deletedTasks.add(id);
    });
  }

  // ─── transitions inside a caller's transaction ────────────────────────────

  async insertIn(sql: Sql, input: NewTask, changes: Changes): Promise<number> {
    if (!TASK_KINDS.includes(input.kind)) invalid('kind', `must be one of ${TASK_KINDS.join(', ')} (got ${String(input.kind)})`);
    const title = requireText(input.title, 'title', 500).trim();
    const params = objectJson(input.params, 'params');
    const subject = input.subject ?? null;
    if (subject !== null) {
      if (!SUBJECT_TYPES.includes(subject.type)) invalid('subject.type', `must be one of ${SUBJECT_TYPES.join(', ')} (got ${String(subject.type)})`);
      requireId(subject.id, 'subject.id');
    }
    for (const [field, id] of [['parentId', input.parentId], ['retryOf', input.retryOf]] as const) {
      if (id == null) continue;
      requireId(id, field);
      if (!(await readTaskRow(sql, id))) notFound('Task', id);
    }
    const placement = requirePlacement(input.placement ?? 'any');
    const id = (await sql.value<number>(
      `INSERT INTO tasks (kind, title, state, params, subject_type, subject_id, parent_id, retry_of, placement, created_at)
       VALUES (?, ?, 'queued', ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
      [input.kind, title, params, subject?.type ?? null, subject?.id ?? null, input.parentId ?? null, input.retryOf ?? null, placement, this.context.clock()],
    )) as number;
    changes.tasks.add(id);
    return id;
  }

  async claimByIdIn(sql: Sql, id: number, owner: TaskOwner, changes: Changes): Promise<boolean> {
    const now = this.context.clock();
    const row = await sql.one<TaskRow>(
      `UPDATE tasks SET state = 'running', owner_host = ?, owner_pid = ?, owner_worker = ?, heartbeat_at = ?,
                        started_at = COALESCE(started_at, ?), finished_at = NULL, attempts = attempts + 1
        WHERE id = ? AND state = 'queued' RETURNING *`,
      [owner.host, owner.pid, owner.worker, now, now, id],
    );
    if (!row) return false;
    await this.moved(sql, row, now, changes);
    return true;
  }

  async heartbeatIn(sql: Sql, id: number, owner: TaskOwner, progressText: string | null): Promise<HeartbeatAnswer> {
    const current = await this.requireRow(sql, id);
    this.requireOwnedBy(current, owner, 'send a heartbeat');
    const row = await sql.one<{ state: string }>(
      `UPDATE tasks SET heartbeat_at = ?, progress = COALESCE(?::jsonb, progress)
        WHERE id = ? AND state IN ('running', 'stopping') AND owner_host = ? AND owner_pid = ? AND owner_worker = ?
        RETURNING state`,
      [this.context.clock(), progressText, id, owner.host, owner.pid, owner.worker],
    );
    if (!row) throw await this.lostRace(sql, id);
    return { stopRequested: row.state === 'stopping' };
  }

  async finishIn(sql: Sql, id: number, owner: TaskOwner, end: TaskEnd, changes: Changes): Promise<void> {
    if (end === null || typeof end !== 'object' || !END_STATES.includes(end.state)) {
      invalid('end.state', `must be one of ${END_STATES.join(', ')} (got ${String(end?.state)})`);
    }
    if (end.result != null) objectJson(end.result, 'end.result');
    if (end.error != null) requireText(end.error, 'end.error', 100_000);
    const current = await this.requireRow(sql, id);
    const result = end.result == null ? null : JSON.stringify(keepHistory(end.result, resultOf(current)));
    if (!isLive(current.state)) throw transitionConflict(`Task ${id} (${current.title})`, current.state, end.state);
    this.requireOwnedBy(current, owner, `finish it as ${end.state}`);
    const now = this.context.clock();
    const error = end.error !== undefined ? end.error : end.state === 'completed' ? null : current.error;
    const row = await sql.one<TaskRow>(
      `UPDATE tasks SET state = ?, result = COALESCE(?::jsonb, result), error = ?, finished_at = ?
        WHERE id = ? AND state = ? AND owner_host = ? AND owner_pid = ? AND owner_worker = ? RETURNING *`,
      [end.state, result, error, now, id, current.state, owner.host, owner.pid, owner.worker],
    );
    if (!row) throw await this.lostRace(sql, id);
    await this.moved(sql, row, now, changes);
  }

  async requestStopIn(sql: Sql, id: number, reason: string | null, changes: Changes): Promise<boolean> {
    const current = await this.requireRow(sql, id);
    const now = this.context.clock();
    let row: TaskRow | undefined;
    if (current.state === 'queued') {
      row = await sql.one<TaskRow>(`UPDATE tasks SET state = 'cancelled', error = ?, finished_at = ? WHERE id = ? AND state = 'queued' RETURNING *`, [
        reason ?? 'Cancelled before it started.',
        now,
        id,
      ]);
    } else if (current.state === 'running') {
      row = await sql.one<TaskRow>(`UPDATE tasks SET state = 'stopping', error = ? WHERE id = ? AND state = 'running' RETURNING *`, [
        reason ?? 'Stop requested.',
        id,
      ]);
    }
    if (!row) return false;
    await this.moved(sql, row, now, changes);
    return true;
  }

  async resumeIn(sql: Sql, id: number, changes: Changes, placement?: TaskPlacement): Promise<void> {
    const current = await this.requireRow(sql, id);
    checkTaskTransition(`Task ${id} (${current.title})`, current.state, 'queued');
    const result: JsonObject = resultOf(current) ?? {};
    const previous = Array.isArray(result.previousErrors) ? (result.previousErrors as JsonValue[]) : [];
    result.previousErrors = [...previous, current.error ?? `${current.state} (no reason given)`];
    const now = this.context.clock();
    const row = await sql.one<TaskRow>(
      `UPDATE tasks SET state = 'queued', owner_host = NULL, owner_pid = NULL, owner_worker = NULL, heartbeat_at = NULL,
                        progress = NULL, error = NULL, finished_at = NULL, result = ?, placement = ?
        WHERE id = ? AND state = ? RETURNING *`,
      [JSON.stringify(result), placement ?? current.placement, id, current.state],
    );
    if (!row) throw await this.lostRace(sql, id);
    await this.moved(sql, row, now, changes);
  }

  /** running | stopping → crashed, only if the row is exactly as `seen` (same state, owner and heartbeat). */
  async crashIn(sql: Sql, seen: TaskRow, reason: string, changes: Changes): Promise<boolean> {
    const now = this.context.clock();
    const row = await sql.one<TaskRow>(
      `UPDATE tasks SET state = 'crashed', error = ?, finished_at = ?
        WHERE id = ? AND state = ? AND owner_host IS NOT DISTINCT FROM ?::text AND owner_pid IS NOT DISTINCT FROM ?::integer
          AND owner_worker IS NOT DISTINCT FROM ?::text AND heartbeat_at IS NOT DISTINCT FROM ?::bigint
        RETURNING *`,
      [reason, now, seen.id, seen.state, seen.owner_host, seen.owner_pid, seen.owner_worker, seen.heartbeat_at],
    );
    if (!row) return false;
    await this.moved(sql, row, now, changes);
    return true;
  }

  // ─── helpers ──────────────────────────────────────────────────────────────

  private async require(id: number): Promise<TaskRecord> {
    return (await readTask(this.sql, id)) ?? notFound('Task', id);
  }

  private async moved(sql: Sql, row: TaskRow, now: number, changes: Changes): Promise<void> {
    await syncDomain(sql, row, now, changes);
    changes.tasks.add(row.id);
  }

  requireOwnedBy(row: TaskRow, owner: TaskOwner, action: string): void {
    if (!isLive(row.state)) {
      throw new ApiError(
        'conflict',
        `Task ${row.id} (${row.title}) is ${row.state}, not running or stopping, so nobody may ${action}` +
          (row.state === 'crashed' ? ` (it was marked crashed: ${row.error ?? 'no reason recorded'}).` : '.'),
      );
    }
    if (!sameOwner(row, owner)) {
      throw new ApiError(
        'conflict',
        `Task ${row.id} (${row.title}) is owned by ${describeOwner({ host: row.owner_host, pid: row.owner_pid, worker: row.owner_worker })}; ` +
          `${describeOwner(owner)} may not ${action}.`,
      );
    }
  }

  private async lostRace(sql: Sql, id: number): Promise<ApiError> {
    const row = await readTaskRow(sql, id);
    return new ApiError('conflict', `Task ${id} changed while this request ran; it is now ${row?.state ?? 'deleted'}.`);
  }

  private staleReason(row: TaskRow, now: number, staleAfterMs: number): string | null {
    const { since, seconds } = silentSeconds(row, now);
    const who = describeOwner({ host: row.owner_host, pid: row.owner_pid, worker: row.owner_worker });
    const last = `last heartbeat ${isoTime(since)}`;
    if (!this.context.isOwnerAlive(row.owner_host, row.owner_pid)) {
      return `Its owner, ${who}, is gone: process ${row.owner_pid ?? '?'} no longer exists on ${row.owner_host ?? '?'} (silent for ${seconds} s, ${last}).`;
    }
    if (now - since > staleAfterMs) {
      return `No heartbeat from ${who} for ${seconds} s (the limit is ${Math.round(staleAfterMs / 1000)} s; ${last}).`;
    }
    return null;
  }
}
