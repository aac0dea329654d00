/**
 * Tasks in SQLite: the one lifecycle of every long job (rules on `TaskStore`
 * in storage.ts). Every transition is a compare-and-set on the row's state
 * (and owner, where only the owner may act) inside an IMMEDIATE transaction,
 * so several processes sharing the database file can claim, beat and finish
 * at once without two of them ever owning one task.
 *
 * The `...Sync` methods are the transitions themselves; they run inside a
 * caller's transaction and record what they changed, so the run, batch job
 * and study stores can create or move their task in the same transaction as
 * their own rows. Each one also brings the task's domain row in step
 * (domainSync.ts).
 */
import { ApiError } from '../../shared/errors';
import type { JsonObject, JsonValue } from '../../shared/storeTypes';
import { isFinalTaskState, TASK_KINDS, TASK_PLACEMENTS, TASK_STATES, type TaskKind, type TaskOwner, type TaskPlacement, type TaskProgress, type TaskRecord } from '../../shared/taskTypes';
import { isoTime } from './clock';
import { commit, type Changes } from './changes';
import type { SqliteContext } from './context';
import { syncDomain } from './domainSync';
import { objectJson } from './json';
import type { ClaimOptions, HeartbeatAnswer, NewTask, ResumeOptions, TaskEnd, TaskFilter, TaskStore } from './storage';
import { readTask, readTaskRow, resultOf, SELECT_TASKS, withQueuePositions, type TaskRow } from './taskRows';
import { checkTaskTransition, isLive, transitionConflict } from './taskStates';
import { notFound, requireId, requireIntegerIn, requireText } from './validate';

const SUBJECT_TYPES = ['run', 'evaluation', 'dataset', 'batchJob', 'study', 'trial'] as const;
// `crashed`: the owner saw the process doing the work (its engine) die under it.
const END_STATES = ['completed', 'failed', 'cancelled', 'crashed'] as const;

function invalid(field: string, message: string): never {
  throw new ApiError('invalid_request', `${field} ${message}.`, [{ path: field, message }]);
}

export function requireOwner(owner: TaskOwner, field = 'owner'): TaskOwner {
  if (owner === null || typeof owner !== 'object') invalid(field, 'must be an object with host, pid and worker');
  requireText(owner.host, `${field}.host`, 255);
  requireId(owner.pid, `${field}.pid`);
  requireText(owner.worker, `${field}.worker`, 255);
  return owner;
}

function requireKinds(kinds: readonly TaskKind[], field: string): readonly TaskKind[] {
  if (!Array.isArray(kinds) || kinds.length === 0) invalid(field, `must name at least one of ${TASK_KINDS.join(', ')}`);
  kinds.forEach((kind, index) => {
    if (!TASK_KINDS.includes(kind)) invalid(`${field}[${index}]`, `must be one of ${TASK_KINDS.join(', ')} (got ${String(kind)})`);
  });
  return kinds;
}

export function requirePlacement(placement: TaskPlacement, field = 'placement'): TaskPlacement {
  if (!TASK_PLACEMENTS.includes(placement)) invalid(field, `must be one of ${TASK_PLACEMENTS.join(', ')} (got ${String(placement)})`);
  return placement;
}

/** The placements a claimer takes: `any` unless it names others (a worker names both). */
export function claimPlacements(options: ClaimOptions | undefined): readonly TaskPlacement[] {
  const placements = options?.placements ?? ['any'];
  if (!Array.isArray(placements) || placements.length === 0) invalid('placements', `must name at least one of ${TASK_PLACEMENTS.join(', ')}`);
  placements.forEach((placement, index) => requirePlacement(placement, `placements[${index}]`));
  return placements;
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

/** How long a task has been silent: since its last heartbeat, else its start, else its creation. */
function silentSeconds(row: TaskRow, now: number): { since: number; seconds: number } {
  const since = row.heartbeat_at ?? row.started_at ?? row.created_at;
  return { since, seconds: Math.max(0, Math.round((now - since) / 1000)) };
}

/** A new result keeps the errors of earlier attempts (`previousErrors`) unless it brings its own. */
function keepHistory(result: JsonObject, stored: JsonObject | null): JsonObject {
  if (stored?.previousErrors === undefined || result.previousErrors !== undefined) return result;
  return { ...result, previousErrors: stored.previousErrors };
}

export class SqliteTaskStore implements TaskStore {
  constructor(private readonly context: SqliteContext) {}

  private get db() {
    return this.context.db;
  }

  // ─── reads ────────────────────────────────────────────────────────────────

  requireRow(id: number): TaskRow {
    requireId(id, 'taskId');
    return readTaskRow(this.db, id) ?? notFound('Task', id);
  }

  async get(id: number): Promise<TaskRecord | null> {
    return readTask(this.db, id);
  }

  async list(filter: TaskFilter = {}): Promise<TaskRecord[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    if (filter.states?.length) {
      filter.states.forEach((state, index) => {
        if (!TASK_STATES.includes(state)) invalid(`states[${index}]`, `must be one of ${TASK_STATES.join(', ')} (got ${String(state)})`);
      });
      where.push(`t.state IN (${filter.states.map(() => '?').join(', ')})`);
      params.push(...filter.states);
    }
    if (filter.kinds?.length) {
      requireKinds(filter.kinds, 'kinds');
      where.push(`t.kind IN (${filter.kinds.map(() => '?').join(', ')})`);
      params.push(...filter.kinds);
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
    const select = this.db.prepare(`${SELECT_TASKS}${clause} ORDER BY t.created_at DESC, t.id DESC LIMIT ?`);
    return this.db.transaction(() => withQueuePositions(this.db, select.all(...params, limit) as TaskRow[]))();
  }

  // ─── the public transitions ───────────────────────────────────────────────

  async create(input: NewTask): Promise<TaskRecord> {
    const id = commit(this.context, (changes) => this.insertSync(input, changes));
    return this.require(id);
  }

  async claim(owner: TaskOwner, kinds: readonly TaskKind[], options?: ClaimOptions): Promise<TaskRecord | null> {
    requireOwner(owner);
    requireKinds(kinds, 'kinds');
    const placements = claimPlacements(options);
    const next = this.db.prepare(
      `SELECT id FROM tasks WHERE state = 'queued' AND kind IN (${kinds.map(() => '?').join(', ')})
          AND placement IN (${placements.map(() => '?').join(', ')})
        ORDER BY created_at, id LIMIT 1`,
    );
    const id = commit(this.context, (changes) => {
      // Inside the write lock the first candidate is ours; the loop only
      // matters for a database that lets another claim in between.
      for (;;) {
        const candidate = next.pluck().get(...kinds, ...placements) as number | undefined;
        if (candidate === undefined) return null;
        if (this.claimByIdSync(candidate, owner, changes)) return candidate;
      }
    });
    return id === null ? null : this.require(id);
  }

  async claimById(id: number, owner: TaskOwner): Promise<TaskRecord | null> {
    requireOwner(owner);
    const claimed = commit(this.context, (changes) => {
      this.requireRow(id);
      return this.claimByIdSync(id, owner, changes);
    });
    return claimed ? this.require(id) : null;
  }

  async heartbeat(id: number, owner: TaskOwner, progress?: TaskProgress | null): Promise<HeartbeatAnswer> {
    requireOwner(owner);
    const progressText = progress == null ? null : progressJson(progress);
    return commit(this.context, () => this.heartbeatSync(id, owner, progressText));
  }

  async finish(id: number, owner: TaskOwner, end: TaskEnd): Promise<TaskRecord> {
    requireOwner(owner);
    commit(this.context, (changes) => this.finishSync(id, owner, end, changes));
    return this.require(id);
  }

  async requestStop(id: number, reason?: string): Promise<boolean> {
    if (reason !== undefined) requireText(reason, 'reason', 2000);
    return commit(this.context, (changes) => this.requestStopSync(id, reason ?? null, changes));
  }

  async resume(id: number, options: ResumeOptions = {}): Promise<TaskRecord> {
    if (options.placement !== undefined) requirePlacement(options.placement);
    commit(this.context, (changes) => this.resumeSync(id, changes, options.placement));
    return this.require(id);
  }

  async place(id: number, placement: TaskPlacement): Promise<TaskRecord> {
    requirePlacement(placement);
    commit(this.context, (changes) => {
      const current = this.requireRow(id);
      if (current.placement === placement) return;
      if (current.state !== 'queued') {
        throw new ApiError('conflict', `Task ${id} (${current.title}) is ${current.state}; only a queued task can be given to ${placement === 'workers' ? 'the workers' : 'any executor'}.`);
      }
      const row = this.db.prepare(`UPDATE tasks SET placement = ? WHERE id = ? AND state = 'queued' RETURNING *`).get(placement, id) as TaskRow | undefined;
      if (!row) throw this.lostRace(id);
      changes.tasks.add(id);
    });
    return this.require(id);
  }

  async recoverStale(options: { staleAfterMs: number; now?: number }): Promise<TaskRecord[]> {
    const ids = this.recoverStaleNow(options);
    return ids.map((id) => readTask(this.db, id)).filter((task): task is TaskRecord => task !== null);
  }

  /** `recoverStale` for the store's open-time check and watchdog: the ids it crashed, in id order. */
  recoverStaleNow(options: { staleAfterMs: number; now?: number }): number[] {
    const { staleAfterMs } = options;
    if (typeof staleAfterMs !== 'number' || !Number.isFinite(staleAfterMs) || staleAfterMs < 0) {
      invalid('staleAfterMs', 'must be a non-negative number of milliseconds');
    }
    return commit(this.context, (changes) => {
      const now = options.now ?? this.context.clock();
      const live = this.db.prepare(`SELECT * FROM tasks WHERE state IN ('running', 'stopping') ORDER BY id`).all() as TaskRow[];
      const crashed: number[] = [];
      for (const row of live) {
        const reason = this.staleReason(row, now, staleAfterMs);
        if (reason !== null && this.crashSync(row, reason, changes)) crashed.push(row.id);
      }
      return crashed;
    });
  }

  async delete(id: number): Promise<void> {
    commit(this.context, (changes) => {
      const row = this.requireRow(id);
      if (!isFinalTaskState(row.state)) {
        throw new ApiError('conflict', `Task ${id} (${row.title}) is ${row.state}; only a finished task can be deleted. Stop it first.`);
      }
      // Runs, jobs, studies and trials that point at it keep their rows and
      // their last status; their link is cleared (ON DELETE SET NULL).
      this.db.prepare(`DELETE FROM tasks WHERE id = ? AND state IN ('completed', 'failed', 'cancelled', 'crashed')`).run(id);
      changes.deletedTasks.add(id);
    });
  }

  // ─── transitions inside a caller's transaction ────────────────────────────

  insertSync(input: NewTask, changes: Changes): number {
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
      if (!readTaskRow(this.db, id)) notFound('Task', id);
    }
    const placement = requirePlacement(input.placement ?? 'any');
    const id = this.db
      .prepare(
        `INSERT INTO tasks (kind, title, state, params, subject_type, subject_id, parent_id, retry_of, placement, created_at)
         VALUES (?, ?, 'queued', ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
      )
      .pluck()
      .get(input.kind, title, params, subject?.type ?? null, subject?.id ?? null, input.parentId ?? null, input.retryOf ?? null, placement, this.context.clock()) as number;
    changes.tasks.add(id);
    return id;
  }

  /** queued → running for `owner`; false when the task is not queued (any more). */
  claimByIdSync(id: number, owner: TaskOwner, changes: Changes): boolean {
    const now = this.context.clock();
    const row = this.db
      .prepare(
        `UPDATE tasks SET state = 'running', owner_host = ?, owner_pid = ?, owner_worker = ?, heartbeat_at = ?,
                          started_at = COALESCE(started_at, ?), finished_at = NULL, attempts = attempts + 1
          WHERE id = ? AND state = 'queued' RETURNING *`,
      )
      .get(owner.host, owner.pid, owner.worker, now, now, id) as TaskRow | undefined;
    if (!row) return false;
    this.moved(row, now, changes);
    return true;
  }

  heartbeatSync(id: number, owner: TaskOwner, progressText: string | null): HeartbeatAnswer {
    const current = this.requireRow(id);
    this.requireOwnedBy(current, owner, 'send a heartbeat');
    const row = this.db
      .prepare(
        `UPDATE tasks SET heartbeat_at = ?, progress = COALESCE(?, progress)
          WHERE id = ? AND state IN ('running', 'stopping') AND owner_host = ? AND owner_pid = ? AND owner_worker = ?
          RETURNING state`,
      )
      .get(this.context.clock(), progressText, id, owner.host, owner.pid, owner.worker) as { state: string } | undefined;
    if (!row) throw this.lostRace(id);
    // Not a change listeners hear of: beats come every few seconds, and
    // progress has its own, throttled channel (the task runtime's events).
    return { stopRequested: row.state === 'stopping' };
  }

  finishSync(id: number, owner: TaskOwner, end: TaskEnd, changes: Changes): void {
    if (end === null || typeof end !== 'object' || !END_STATES.includes(end.state)) {
      invalid('end.state', `must be one of ${END_STATES.join(', ')} (got ${String(end?.state)})`);
    }
    if (end.result != null) objectJson(end.result, 'end.result');
    if (end.error != null) requireText(end.error, 'end.error', 100_000);
    const current = this.requireRow(id);
    const result = end.result == null ? null : JSON.stringify(keepHistory(end.result, resultOf(current)));
    if (!isLive(current.state)) throw transitionConflict(`Task ${id} (${current.title})`, current.state, end.state);
    this.requireOwnedBy(current, owner, `finish it as ${end.state}`);
    const now = this.context.clock();
    // A stop reason stays the error of a cancelled task unless the owner gives another.
    const error = end.error !== undefined ? end.error : end.state === 'completed' ? null : current.error;
    const row = this.db
      .prepare(
        `UPDATE tasks SET state = ?, result = COALESCE(?, result), error = ?, finished_at = ?
          WHERE id = ? AND state = ? AND owner_host = ? AND owner_pid = ? AND owner_worker = ? RETURNING *`,
      )
      .get(end.state, result, error, now, id, current.state, owner.host, owner.pid, owner.worker) as TaskRow | undefined;
    if (!row) throw this.lostRace(id);
    this.moved(row, now, changes);
  }

  requestStopSync(id: number, reason: string | null, changes: Changes): boolean {
    const current = this.requireRow(id);
    const now = this.context.clock();
    let row: TaskRow | undefined;
    if (current.state === 'queued') {
      row = this.db
        .prepare(`UPDATE tasks SET state = 'cancelled', error = ?, finished_at = ? WHERE id = ? AND state = 'queued' RETURNING *`)
        .get(reason ?? 'Cancelled before it started.', now, id) as TaskRow | undefined;
    } else if (current.state === 'running') {
      row = this.db
        .prepare(`UPDATE tasks SET state = 'stopping', error = ? WHERE id = ? AND state = 'running' RETURNING *`)
        .get(reason ?? 'Stop requested.', id) as TaskRow | undefined;
    }
    if (!row) return false;
    this.moved(row, now, changes);
    return true;
  }

  resumeSync(id: number, changes: Changes, placement?: TaskPlacement): void {
    const current = this.requireRow(id);
    checkTaskTransition(`Task ${id} (${current.title})`, current.state, 'queued');
    const result: JsonObject = resultOf(current) ?? {};
    const previous = Array.isArray(result.previousErrors) ? (result.previousErrors as JsonValue[]) : [];
    result.previousErrors = [...previous, current.error ?? `${current.state} (no reason given)`];
    const now = this.context.clock();
    const row = this.db
      .prepare(
        `UPDATE tasks SET state = 'queued', owner_host = NULL, owner_pid = NULL, owner_worker = NULL, heartbeat_at = NULL,
                          progress = NULL, error = NULL, finished_at = NULL, result = ?, placement = ?
          WHERE id = ? AND state = ? RETURNING *`,
      )
      .get(JSON.stringify(result), placement ?? current.placement, id, current.state) as TaskRow | undefined;
    if (!row) throw this.lostRace(id);
    this.moved(row, now, changes);
  }

  /**
   * running | stopping → crashed, only if the row is exactly as `seen` (same
   * state, owner and heartbeat): a task that beat or changed hands since it
   * was judged is left alone. False when it was.
   */
  crashSync(seen: TaskRow, reason: string, changes: Changes): boolean {
    const now = this.context.clock();
    const row = this.db
      .prepare(
        `UPDATE tasks SET state = 'crashed', error = ?, finished_at = ?
          WHERE id = ? AND state = ? AND owner_host IS ? AND owner_pid IS ? AND owner_worker IS ? AND heartbeat_at IS ?
          RETURNING *`,
      )
      .get(reason, now, seen.id, seen.state, seen.owner_host, seen.owner_pid, seen.owner_worker, seen.heartbeat_at) as TaskRow | undefined;
    if (!row) return false;
    this.moved(row, now, changes);
    return true;
  }

  // ─── helpers ──────────────────────────────────────────────────────────────

  private require(id: number): TaskRecord {
    return readTask(this.db, id) ?? notFound('Task', id);
  }

  /** After a state change: the domain row follows, listeners hear of it after commit. */
  private moved(row: TaskRow, now: number, changes: Changes): void {
    syncDomain(this.db, row, now, changes);
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

  /** A compare-and-set found the row changed after it was read (another connection moved it). */
  private lostRace(id: number): ApiError {
    const row = readTaskRow(this.db, id);
    return new ApiError('conflict', `Task ${id} changed while this request ran; it is now ${row?.state ?? 'deleted'}.`);
  }

  /** Null while the task looks alive; otherwise why it is crashed, naming host, pid and silence. */
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
