/**
 * Batch captioning jobs in SQLite: one row per job, one result per image
 * path. Results are upserts, so a resumed job can re-send what it is unsure
 * of, and `donePaths` tells it what to skip.
 */
import { ApiError } from '../../shared/errors';
import type { BatchJobRecord, BatchJobStatus, BatchResult } from '../../shared/storeTypes';
import type { TaskPlacement, TaskState } from '../../shared/taskTypes';
import { BATCH_JOB_STATUSES } from '../../shared/storeTypes';
import { commit } from './changes';
import { isoTime } from './clock';
import type { SqliteContext } from './context';
import { objectJson, parseObject, parseStringArray } from './json';
import type { BatchJobInput, BatchJobStore, BatchPlan, BatchPlanStep, BatchResultInput, BatchShardInput, BatchShardRecord } from './storage';
import { moveTaskAsFacade, runStatusTarget } from './taskFacade';
import type { SqliteTaskStore } from './tasks';
import { notFound, requireCount, requireId, requireIntegerIn, requireText } from './validate';

interface JobRow {
  id: number;
  input_path: string;
  model_path: string;
  run_id: number | null;
  decoding: string;
  status: BatchJobStatus;
  task_id: number | null;
  total: number;
  done: number;
  error: string | null;
  created_at: number;
  started_at: number | null;
  finished_at: number | null;
  heartbeat_at: number | null;
}

interface ShardRow {
  job_id: number;
  shard: number;
  task_id: number | null;
  first_ordinal: number;
  size: number;
  state: TaskState | null;
  attempts: number | null;
  error: string | null;
}

function toShard(row: ShardRow): BatchShardRecord {
  return {
    jobId: row.job_id,
    shard: row.shard,
    taskId: row.task_id,
    firstOrdinal: row.first_ordinal,
    size: row.size,
    state: row.state,
    attempts: row.attempts ?? 0,
    error: row.error,
  };
}

/** Checks a plan step's numbers (all counts). */
export function requirePlanStep(step: BatchPlanStep): void {
  requireCount(step.listed, 'step.listed');
  requireCount(step.ordinals, 'step.ordinals');
  requireCount(step.ignored, 'step.ignored');
  requireCount(step.excluded, 'step.excluded');
}

/** Checks a new shard; answers its images as JSON. */
export function shardImagesJson(shard: BatchShardInput): string {
  requireCount(shard.shard, 'shard.shard');
  requireCount(shard.firstOrdinal, 'shard.firstOrdinal');
  if (!Array.isArray(shard.images)) throw new ApiError('invalid_request', 'shard.images must be a list of image paths.');
  shard.images.forEach((path, index) => requireText(path, `shard.images[${index}]`, 4096));
  return JSON.stringify(shard.images);
}

export const SELECT_SHARDS = `
  SELECT s.job_id, s.shard, s.task_id, s.first_ordinal, s.size, t.state, t.attempts, t.error
    FROM batch_shards s LEFT JOIN tasks t ON t.id = s.task_id`;

interface ResultRow {
  image_path: string;
  caption: string | null;
  score: number | null;
  error: string | null;
  created_at: number;
}

/** Jobs with their task's heartbeat and how many images they have done. */
const SELECT_JOBS = `
  SELECT j.*, tk.heartbeat_at, (SELECT COUNT(*) FROM batch_results r WHERE r.job_id = j.id) AS done
    FROM batch_jobs j LEFT JOIN tasks tk ON tk.id = j.task_id`;

function toRecord(row: JobRow): BatchJobRecord {
  return {
    id: row.id,
    inputPath: row.input_path,
    modelPath: row.model_path,
    runId: row.run_id,
    decoding: parseObject(row.decoding),
    status: row.status,
    taskId: row.task_id,
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
  constructor(
    private readonly context: SqliteContext,
    private readonly tasks: SqliteTaskStore,
  ) {}

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
    if (input.taskParams !== undefined) objectJson(input.taskParams, 'taskParams');
    const id = commit(this.context, (changes) => {
      if (input.runId != null) {
        requireId(input.runId, 'runId');
        if (!this.db.prepare('SELECT 1 FROM runs WHERE id = ?').get(input.runId)) notFound('Run', input.runId);
      }
      const id = this.db
        .prepare(
          `INSERT INTO batch_jobs (input_path, model_path, run_id, decoding, status, total, created_at)
           VALUES (?, ?, ?, ?, 'queued', ?, ?) RETURNING id`,
        )
        .pluck()
        .get(input.inputPath, input.modelPath, input.runId ?? null, decoding, input.total, this.context.clock()) as number;
      const taskId = this.tasks.insertSync(
        { kind: 'batch', title: `Captioning ${input.inputPath}`, params: input.taskParams ?? { jobId: id }, subject: { type: 'batchJob', id }, placement: input.placement ?? 'any' },
        changes,
      );
      this.db.prepare('UPDATE batch_jobs SET task_id = ? WHERE id = ?').run(taskId, id);
      return id;
    });
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
    commit(this.context, (changes) => {
      const current = this.requireJob(id);
      if (status === current.status) {
        if (change.error !== undefined && status !== 'running' && status !== 'queued') {
          this.db.prepare('UPDATE batch_jobs SET error = ? WHERE id = ?').run(change.error, id);
        }
        return;
      }
      if (status === 'queued') throw new ApiError('conflict', `Batch job ${id} is ${current.status} and cannot become queued again.`);
      moveTaskAsFacade(
        this.tasks,
        this.context.taskOwner,
        { what: `Batch job ${id}`, from: current.status, to: status, taskId: current.task_id, target: runStatusTarget(status), error: change.error },
        changes,
      );
    });
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
      // Results are a sign of life of whoever runs the job.
      this.db
        .prepare(`UPDATE tasks SET heartbeat_at = ? WHERE id = (SELECT task_id FROM batch_jobs WHERE id = ?) AND state IN ('running', 'stopping')`)
        .run(now, jobId);
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
    commit(this.context, () => {
      const job = this.requireJob(jobId);
      if (job.task_id === null) throw new ApiError('conflict', `Batch job ${jobId} is ${job.status} and its task was deleted; it takes no heartbeats.`);
      this.tasks.heartbeatSync(job.task_id, this.context.taskOwner, null);
    });
  }

  /** With its results, its shards, its task and its shards' tasks. */
  async delete(id: number): Promise<void> {
    commit(this.context, (changes) => {
      const job = this.requireJob(id);
      const shardTasks = this.db.prepare('SELECT task_id FROM batch_shards WHERE job_id = ? AND task_id IS NOT NULL').pluck().all(id) as number[];
      for (const taskId of shardTasks) {
        this.db.prepare('DELETE FROM tasks WHERE id = ?').run(taskId);
        changes.deletedTasks.add(taskId);
      }
      this.db.prepare('DELETE FROM batch_jobs WHERE id = ?').run(id);
      if (job.task_id !== null) {
        this.db.prepare('DELETE FROM tasks WHERE id = ?').run(job.task_id);
        changes.deletedTasks.add(job.task_id);
      }
    });
  }

  // ─── shards ────────────────────────────────────────────────────────────────

  async addShard(jobId: number, shard: BatchShardInput, step: BatchPlanStep): Promise<boolean> {
    const images = shardImagesJson(shard);
    requirePlanStep(step);
    return commit(this.context, (changes) => {
      const job = this.requireJob(jobId);
      if (!this.db.prepare('SELECT 1 FROM batch_job_settings WHERE job_id = ?').get(jobId)) notFound('Batch job settings', jobId);
      if (this.db.prepare('SELECT 1 FROM batch_shards WHERE job_id = ? AND shard = ?').get(jobId, shard.shard)) return false;
      // A shard goes where its job was queued: a job for the workers keeps every shard for them.
      const placement = job.task_id === null ? undefined : (this.db.prepare('SELECT placement FROM tasks WHERE id = ?').pluck().get(job.task_id) as TaskPlacement | undefined);
      const taskId = this.tasks.insertSync(
        {
          kind: 'batch',
          placement,
          title: `Captioning ${job.input_path}: shard ${shard.shard + 1} (images ${shard.firstOrdinal + 1}–${shard.firstOrdinal + shard.images.length})`,
          params: { jobId, shard: shard.shard },
          subject: { type: 'batchJob', id: jobId },
          parentId: job.task_id,
        },
        changes,
      );
      this.db
        .prepare('INSERT INTO batch_shards (job_id, shard, task_id, first_ordinal, size, images) VALUES (?, ?, ?, ?, ?, ?)')
        .run(jobId, shard.shard, taskId, shard.firstOrdinal, shard.images.length, images);
      this.moveCursor(jobId, step, false);
      return true;
    });
  }

  async finishPlan(jobId: number, step: BatchPlanStep): Promise<void> {
    requirePlanStep(step);
    commit(this.context, () => {
      this.requireJob(jobId);
      this.moveCursor(jobId, step, true);
    });
  }

  private moveCursor(jobId: number, step: BatchPlanStep, planned: boolean): void {
    const changed = this.db
      .prepare(
        `UPDATE batch_job_settings SET plan_listed = ?, plan_ordinals = ?, ignored = ignored + ?, excluded = excluded + ?,
           planned = ?, total = CASE WHEN ? THEN ? ELSE total END WHERE job_id = ?`,
      )
      .run(step.listed, step.ordinals, step.ignored, step.excluded, planned ? 1 : 0, planned ? 1 : 0, step.ordinals, jobId).changes;
    if (changed === 0) notFound('Batch job settings', jobId);
  }

  async plan(jobId: number): Promise<BatchPlan> {
    this.requireJob(jobId);
    const row = this.db.prepare('SELECT plan_listed, plan_ordinals, planned FROM batch_job_settings WHERE job_id = ?').get(jobId) as
      | { plan_listed: number; plan_ordinals: number; planned: number }
      | undefined;
    if (!row) notFound('Batch job settings', jobId);
    const shards = this.db.prepare('SELECT COUNT(*) FROM batch_shards WHERE job_id = ?').pluck().get(jobId) as number;
    return { listed: row.plan_listed, ordinals: row.plan_ordinals, planned: row.planned === 1, shards };
  }

  async shards(jobId: number): Promise<BatchShardRecord[]> {
    this.requireJob(jobId);
    return (this.db.prepare(`${SELECT_SHARDS} WHERE s.job_id = ? ORDER BY s.shard`).all(jobId) as ShardRow[]).map(toShard);
  }

  async shardImages(jobId: number, shard: number): Promise<{ firstOrdinal: number; images: string[] }> {
    requireId(jobId, 'jobId');
    const row = this.db.prepare('SELECT first_ordinal, images FROM batch_shards WHERE job_id = ? AND shard = ?').get(jobId, shard) as
      | { first_ordinal: number; images: string }
      | undefined;
    if (!row) notFound(`Shard of batch job ${jobId}`, shard);
    return { firstOrdinal: row.first_ordinal, images: parseStringArray(row.images) };
  }
}
