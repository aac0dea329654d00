/** Run rows in SQLite and their records: the one SELECT every reader of runs uses. */
import type { RunRecord, RunStatus } from '../../shared/storeTypes';
import { isoTime } from './clock';
import type { SqliteContext } from './context';
import { parseObject, parseStringArray } from './json';

export interface RunRow {
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
  task_id: number | null;
  heartbeat_at: number | null;
  trial_id: number | null;
  checkpoint_id: number | null;
  checkpoint_path: string | null;
  checkpoint_epoch: number | null;
  checkpoint_step: number | null;
}

/**
 * Runs with their task's heartbeat, their trial and newest checkpoint;
 * callers append WHERE/ORDER clauses on `r`.
 */
export const SELECT_RUNS = `
  SELECT r.id, r.name, r.status, r.config, r.dataset_id, r.backend, r.machine, r.notes, r.tags, r.error,
         r.created_at, r.started_at, r.finished_at, r.task_id, tk.heartbeat_at,
         (SELECT t.id FROM trials t WHERE t.run_id = r.id) AS trial_id,
         c.id AS checkpoint_id, c.path AS checkpoint_path, c.epoch AS checkpoint_epoch, c.step AS checkpoint_step
    FROM runs r
    LEFT JOIN tasks tk ON tk.id = r.task_id
    LEFT JOIN checkpoints c
      ON c.id = (SELECT id FROM checkpoints WHERE run_id = r.id ORDER BY step DESC, id DESC LIMIT 1)`;

export function toRunRecord(context: SqliteContext, row: RunRow): RunRecord {
  return {
    id: row.id,
    name: row.name,
    status: row.status,
    config: parseObject(row.config),
    datasetId: row.dataset_id,
    trialId: row.trial_id,
    taskId: row.task_id,
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
            path: context.files.toAbsolute(row.checkpoint_path as string),
            epoch: row.checkpoint_epoch as number,
            step: row.checkpoint_step as number,
          },
  };
}

export function readRun(context: SqliteContext, id: number): RunRecord | null {
  const row = context.db.prepare(`${SELECT_RUNS} WHERE r.id = ?`).get(id) as RunRow | undefined;
  return row ? toRunRecord(context, row) : null;
}
