/** Task rows in SQLite and their records: the one SELECT every reader of tasks uses. */
import type { JsonObject } from '../../shared/storeTypes';
import type { TaskKind, TaskPlacement, TaskProgress, TaskRecord, TaskState, TaskSubject } from '../../shared/taskTypes';
import { isoTime } from './clock';
import type { Db } from './db';
import { parseObject } from './json';

export interface TaskRow {
  id: number;
  kind: TaskKind;
  title: string;
  state: TaskState;
  params: string;
  subject_type: TaskSubject['type'] | null;
  subject_id: number | null;
  parent_id: number | null;
  retry_of: number | null;
  placement: TaskPlacement;
  owner_host: string | null;
  owner_pid: number | null;
  owner_worker: string | null;
  heartbeat_at: number | null;
  progress: string | null;
  result: string | null;
  error: string | null;
  attempts: number;
  created_at: number;
  started_at: number | null;
  finished_at: number | null;
}

/** Tasks; callers append WHERE/ORDER clauses on `t`. */
export const SELECT_TASKS = 'SELECT t.* FROM tasks t';

export function resultOf(row: Pick<TaskRow, 'result'>): JsonObject | null {
  return row.result === null ? null : parseObject(row.result);
}

export function toTaskRecord(row: TaskRow & { queue_position?: number | null }): TaskRecord {
  return {
    id: row.id,
    kind: row.kind,
    title: row.title,
    state: row.state,
    params: parseObject(row.params),
    subject: row.subject_type === null || row.subject_id === null ? null : { type: row.subject_type, id: row.subject_id },
    parentId: row.parent_id,
    retryOf: row.retry_of,
    placement: row.placement,
    owner:
      row.owner_host === null || row.owner_pid === null || row.owner_worker === null
        ? null
        : { host: row.owner_host, pid: row.owner_pid, worker: row.owner_worker },
    heartbeatAt: isoTime(row.heartbeat_at),
    progress: row.progress === null ? null : (parseObject(row.progress) as unknown as TaskProgress),
    result: resultOf(row),
    error: row.error,
    attempts: row.attempts,
    createdAt: isoTime(row.created_at),
    startedAt: isoTime(row.started_at),
    finishedAt: isoTime(row.finished_at),
    queuePosition: row.queue_position ?? null,
  };
}

export function readTaskRow(db: Db, id: number): TaskRow | undefined {
  return db.prepare('SELECT * FROM tasks WHERE id = ?').get(id) as TaskRow | undefined;
}

/**
 * Records of `rows` with their place in the queue: for a queued task, how
 * many queued tasks of any kind come before it in claiming order (creation
 * time, then id). The queued ids are read once along the claiming index, so
 * a list costs one pass over the queue rather than one count per row.
 * Call inside a read transaction so both reads see the same snapshot.
 */
export function withQueuePositions(db: Db, rows: readonly TaskRow[]): TaskRecord[] {
  const queued = rows.filter((row) => row.state === 'queued');
  let positions = new Map<number, number>();
  if (queued.length === 1) {
    const row = queued[0] as TaskRow;
    const ahead = db
      .prepare(`SELECT COUNT(*) FROM tasks WHERE state = 'queued' AND (created_at < ? OR (created_at = ? AND id < ?))`)
      .pluck()
      .get(row.created_at, row.created_at, row.id) as number;
    positions.set(row.id, ahead);
  } else if (queued.length > 1) {
    const order = db.prepare(`SELECT id FROM tasks WHERE state = 'queued' ORDER BY created_at, id`).pluck().all() as number[];
    positions = new Map(order.map((id, index) => [id, index]));
  }
  return rows.map((row) => toTaskRecord({ ...row, queue_position: positions.get(row.id) ?? null }));
}

export function readTask(db: Db, id: number): TaskRecord | null {
  return db.transaction(() => {
    const row = readTaskRow(db, id);
    return row ? (withQueuePositions(db, [row])[0] ?? null) : null;
  })();
}
