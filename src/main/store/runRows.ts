/** Run rows and their records: the one SELECT every reader of runs uses, in both stores. */
import { ApiError } from '../../shared/errors';
import { RUN_STATUSES, type ResumePoint, type RunRecord, type RunStatus } from '../../shared/storeTypes';
import { isoTime } from './clock';
import type { SqliteContext } from './context';
import type { SqlDialect } from './dialect';
import type { RunFiles } from './files';
import { parseObject, parseStringArray } from './json';
import type { RunFilter, RunUpdate, StatusChange } from './storage';
import { normalizeTags, requireText } from './validate';

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

export function readRun(context: SqliteContext, id: number): RunRecord | null {
  const row = context.db.prepare(`${SELECT_RUNS} WHERE r.id = ?`).get(id) as RunRow | undefined;
  return row ? toRunRecord(context, row) : null;
}

export function requireRunStatus(status: RunStatus): void {
  if (!RUN_STATUSES.includes(status)) {
    throw new ApiError('invalid_request', `status "${String(status)}" is not one of ${RUN_STATUSES.join(', ')}.`);
  }
}

/** The runs list's WHERE clause (on `r`, empty when unfiltered) and the page, for either store. */
export function runListQuery(filter: RunFilter, dialect: SqlDialect): { clause: string; params: unknown[]; page: unknown[] } {
  const where: string[] = [];
  const params: unknown[] = [];
  if (filter.status?.length) {
    filter.status.forEach(requireRunStatus);
    const status = dialect.oneOf('r.status', filter.status);
    where.push(status.sql);
    params.push(...status.params);
  }
  if (filter.tag) {
    where.push(dialect.jsonArrayHas('r.tags'));
    params.push(filter.tag);
  }
  if (filter.search) {
    const pattern = `%${filter.search.replace(/[\\%_]/g, (char) => `\\${char}`)}%`;
    const like = dialect.caseInsensitiveLike;
    where.push(`(r.name ${like} ? ESCAPE '\\' OR r.notes ${like} ? ESCAPE '\\')`);
    params.push(pattern, pattern);
  }
  if (filter.datasetId !== undefined) {
    where.push('r.dataset_id = ?');
    params.push(filter.datasetId);
  }
  return { clause: where.length ? ` WHERE ${where.join(' AND ')}` : '', params, page: [filter.limit ?? dialect.noLimit, filter.offset ?? 0] };
}

/** An UPDATE of the given columns of one run (its id the last parameter), or null when nothing changes. */
function updateOf(columns: Array<[string, unknown]>): { sql: string; params: unknown[] } | null {
  if (columns.length === 0) return null;
  return { sql: `UPDATE runs SET ${columns.map(([column]) => `${column} = ?`).join(', ')} WHERE id = ?`, params: columns.map(([, value]) => value) };
}

/** What a user may edit of a run: its name, notes and tags. */
export function runEdit(update: RunUpdate): { sql: string; params: unknown[] } | null {
  const columns: Array<[string, unknown]> = [];
  if (update.name !== undefined) columns.push(['name', requireText(update.name, 'name', 200).trim()]);
  if (update.notes !== undefined) columns.push(['notes', update.notes]);
  if (update.tags !== undefined) columns.push(['tags', JSON.stringify(normalizeTags(update.tags))]);
  return updateOf(columns);
}

/** Where a run executes, recorded with a status change. */
export function runPlacementUpdate(change: StatusChange): { sql: string; params: unknown[] } | null {
  const columns: Array<[string, unknown]> = [];
  if (change.backend !== undefined) columns.push(['backend', change.backend]);
  if (change.machine !== undefined) columns.push(['machine', change.machine]);
  return updateOf(columns);
}

/** Where training resumes a run: its newest checkpoint, if any. */
export function resumePointOf(run: RunRecord): ResumePoint | null {
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
