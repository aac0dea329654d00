/** Run rows in PostgreSQL and their records (the same SELECT as SQLite's). */
import type { RunRecord } from '../../../shared/storeTypes';
import { isoTime } from '../clock';
import type { RunFiles } from '../files';
import { parseObject, parseStringArray } from '../json';
import { SELECT_RUNS, type RunRow } from '../runRows';
import type { Sql } from './sql';

export { SELECT_RUNS, type RunRow };

export function toRunRecord(context: { files: RunFiles }, row: RunRow): RunRecord {
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

export async function readRun(context: { files: RunFiles }, sql: Sql, id: number): Promise<RunRecord | null> {
  const row = await sql.one<RunRow>(`${SELECT_RUNS} WHERE r.id = ?`, [id]);
  return row ? toRunRecord(context, row) : null;
}
