/** Task rows in PostgreSQL: the same columns as SQLite's, read into the shared `TaskRecord`. */
import type { TaskRecord } from '../../../shared/taskTypes';
import { toTaskRecord, type TaskRow } from '../taskRows';
import type { Sql } from './sql';

export async function readTaskRow(sql: Sql, id: number, forUpdate = false): Promise<TaskRow | undefined> {
  return sql.one<TaskRow>(`SELECT * FROM tasks WHERE id = ?${forUpdate ? ' FOR UPDATE' : ''}`, [id]);
}

/**
 * Records of `rows` with their place in the queue (how many queued tasks of
 * any kind are claimed before each queued one), from one read of the queue.
 */
export async function withQueuePositions(sql: Sql, rows: readonly TaskRow[]): Promise<TaskRecord[]> {
  const queued = rows.filter((row) => row.state === 'queued');
  let positions = new Map<number, number>();
  if (queued.length === 1) {
    const row = queued[0] as TaskRow;
    const ahead = await sql.value<number>(
      `SELECT COUNT(*) FROM tasks WHERE state = 'queued' AND (created_at < ? OR (created_at = ? AND id < ?))`,
      [row.created_at, row.created_at, row.id],
    );
    positions.set(row.id, ahead ?? 0);
  } else if (queued.length > 1) {
    const order = await sql.column<number>(`SELECT id FROM tasks WHERE state = 'queued' ORDER BY created_at, id`);
    positions = new Map(order.map((id, index) => [id, index]));
  }
  return rows.map((row) => toTaskRecord({ ...row, queue_position: positions.get(row.id) ?? null }));
}

export async function readTask(sql: Sql, id: number): Promise<TaskRecord | null> {
  const row = await readTaskRow(sql, id);
  return row ? ((await withQueuePositions(sql, [row]))[0] ?? null) : null;
}
