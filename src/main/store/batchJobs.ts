/**
 * Batch captioning jobs in SQLite: one row per job, one result per image
 * path. Results are upserts, so a resumed job can re-send what it is unsure
 * of, and `donePaths` tells it what to skip.
 */
import { ApiError } from '../../shared/errors';
import type { BatchJobRecord, BatchJobStatus, BatchResult } from '../../shared/storeTypes';
import { BATCH_JOB_STATUSES } from '../../shared/storeTypes';
import { isoTime } from './clock';
import type { SqliteContext } from './context';
import { objectJson, parseObject } from './json';
import type { BatchJobInput, BatchJobStore, BatchResultInput } from './storage';
import { checkBatchTransition, TERMINAL_RUN_STATUSES } from './transitions';
import { notFound, requireCount, requireId, requireIntegerIn, requireText } from './validate';

interface JobRow {
  id: number;
  input_path: string;
  model_path: string;
  run_id: number | null;
  decoding: string;
  status: BatchJobStatus;
  total: number;
  done: number;
  error: string | null;
  created_at: number;
  started_at: number | null;
  finished_at: number | null;
  heartbeat_at: number | null;
}

interface ResultRow {
  image_path: string;
  caption: string | null;
  score: number | null;
  error: string | null;
  created_at: number;
}

const SELECT_JOBS = `SELECT j.*, (SELECT COUNT(*) FROM batch_results r WHERE r.job_id = j.id) AS done FROM batch_jobs j`;

function toRecord(row: JobRow): BatchJobRecord {
  return {
    id: row.id,
    inputPath: row.input_path,
    modelPath: row.model_path,
    runId: row.run_id,
    decoding: parseObject(row.decoding),
    status: row.status,
    total: row.total,
    done: row.done,
    error: row.error,
    createdAt: isoTime(row.created_at),
    startedAt: isoTime(row.started_at),
    finishedAt: isoTime(row.finished_at),
    heartbeatAt: isoTime(row.heartbeat_at),
  };
}

export class SqliteBatchJobStore implements BatchJobStore {
  constructor(private readonly context: SqliteContext) {}

  private get db() {
    return this.context.db;
  }

  private requireJob(id: number): JobRow {
    requireId(id, 'jobId');
    return (this.db.prepare(`${SELECT_JOBS} WHERE j.id = ?`).get(id) as JobRow | undefined) ?? notFound('Batch job', id);
  }

  async create(input: BatchJobInput): Promise<BatchJobRecord> {
    requireText(input.inputPath, 'inputPath', 4096);
    requireText(input.modelPath, 'modelPath', 4096);
    requireCount(input.total, 'total');
    const decoding = objectJson(input.decoding, 'decoding');
    const { host, pid } = this.context.owner;
    const id = this.db.transaction(() => {
      if (input.runId != null) {
        requireId(input.runId, 'runId');
        if (!this.db.prepare('SELECT 1 FROM runs WHERE id = ?').get(input.runId)) notFound('Run', input.runId);
      }
      return this.db
        .prepare(
          `INSERT INTO batch_jobs (input_path, model_path, run_id, decoding, status, total, owner_host, owner_pid, created_at)
           VALUES (?, ?, ?, ?, 'queued', ?, ?, ?, ?) RETURNING id`,
        )
        .pluck()
        .get(input.inputPath, input.modelPath, input.runId ?? null, decoding, input.total, host, pid, this.context.clock()) as number;
    })();
    return toRecord(this.requireJob(id));
  }

  async get(id: number): Promise<BatchJobRecord | null> {
    const row = this.db.prepare(`${SELECT_JOBS} WHERE j.id = ?`).get(id) as JobRow | undefined;
    return row ? toRecord(row) : null;
  }

  async list(): Promise<BatchJobRecord[]> {
    return (this.db.prepare(`${SELECT_JOBS} ORDER BY j.created_at DESC, j.id DESC`).all() as JobRow[]).map(toRecord);
  }

  async setStatus(id: number, status: BatchJobStatus, change: { error?: string | null } = {}): Promise<BatchJobRecord> {
    if (!BATCH_JOB_STATUSES.includes(status)) {
      throw new ApiError('invalid_request', `status must be one of ${BATCH_JOB_STATUSES.join(', ')} (got ${String(status)}).`);
    }
    this.db.transaction(() => {
      const current = this.requireJob(id);
      checkBatchTransition(`Batch job ${id}`, current.status, status);
      const now = this.context.clock();
      const sets = ['status = ?'];
      const params: unknown[] = [status];
      if (status === 'running' && current.status !== 'running') {
        const { host, pid } = this.context.owner;
        sets.push('owner_host = ?', 'owner_pid = ?', 'heartbeat_at = ?', 'started_at = COALESCE(started_at, ?)', 'finished_at = NULL', 'error = NULL');
        params.push(host, pid, now, now);
      }
      if (TERMINAL_RUN_STATUSES.includes(status) && status !== current.status) {
        sets.push('finished_at = ?');
        params.push(now);
      }
      if (change.error !== undefined) {
        sets.push('error = ?');
        params.push(change.error);
      }
      this.db.prepare(`UPDATE batch_jobs SET ${sets.join(', ')} WHERE id = ?`).run(...params, id);
    })();
    return toRecord(this.requireJob(id));
  }

  async addResults(jobId: number, results: BatchResultInput[]): Promise<void> {
    results.forEach((result, index) => requireText(result.imagePath, `results[${index}].imagePath`, 4096));
    const insert = this.db.prepare(
      `INSERT INTO batch_results (job_id, image_path, caption, score, error, created_at) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (job_id, image_path) DO UPDATE SET caption = excluded.caption, score = excluded.score,
         error = excluded.error, created_at = excluded.created_at`,
    );
    const now = this.context.clock();
    this.db.transaction(() => {
      this.requireJob(jobId);
      for (const result of results) {
        const score = result.score ?? null;
        insert.run(jobId, result.imagePath, result.caption, score !== null && Number.isFinite(score) ? score : null, result.error ?? null, now);
      }
      this.db.prepare(`UPDATE batch_jobs SET heartbeat_at = ? WHERE id = ? AND status = 'running'`).run(now, jobId);
    })();
  }

  async results(jobId: number, options: { limit?: number; offset?: number } = {}): Promise<BatchResult[]> {
    this.requireJob(jobId);
    const limit = options.limit === undefined ? -1 : requireIntegerIn(options.limit, 'limit', 1, 10_000_000);
    const offset = options.offset === undefined ? 0 : requireIntegerIn(options.offset, 'offset', 0, Number.MAX_SAFE_INTEGER);
    const rows = this.db
      .prepare('SELECT * FROM batch_results WHERE job_id = ? ORDER BY image_path LIMIT ? OFFSET ?')
      .all(jobId, limit, offset) as ResultRow[];
    return rows.map((row) => ({
      imagePath: row.image_path,
      caption: row.caption,
      score: row.score,
      error: row.error,
      createdAt: isoTime(row.created_at),
    }));
  }

  async donePaths(jobId: number): Promise<string[]> {
    this.requireJob(jobId);
    return this.db.prepare('SELECT image_path FROM batch_results WHERE job_id = ? ORDER BY image_path').pluck().all(jobId) as string[];
  }

  async heartbeat(jobId: number): Promise<void> {
    requireId(jobId, 'jobId');
    if (this.db.prepare('UPDATE batch_jobs SET heartbeat_at = ? WHERE id = ?').run(this.context.clock(), jobId).changes === 0) {
      notFound('Batch job', jobId);
    }
  }

  async delete(id: number): Promise<void> {
    requireId(id, 'jobId');
    if (this.db.prepare('DELETE FROM batch_jobs WHERE id = ?').run(id).changes === 0) notFound('Batch job', id);
  }
}
