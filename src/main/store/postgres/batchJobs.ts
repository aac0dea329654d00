/**
 * Batch captioning jobs in PostgreSQL: one row per job, one result per image
 * path (upserts, so a resumed or re-claimed job can send again what it is
 * unsure of, and `donePaths` tells it what to skip).
 */
import { ApiError } from '../../../shared/errors';
import type { BatchJobRecord, BatchJobStatus, BatchResult } from '../../../shared/storeTypes';
import type { TaskPlacement, TaskState } from '../../../shared/taskTypes';
import { BATCH_JOB_STATUSES } from '../../../shared/storeTypes';
import { isoTime } from '../clock';
import { objectJson, parseObject, parseStringArray } from '../json';
import { requirePlanStep, SELECT_SHARDS, shardImagesJson } from '../batchJobs';
import type { BatchJobInput, BatchJobStore, BatchPlan, BatchPlanStep, BatchResultInput, BatchShardInput, BatchShardRecord } from '../storage';
import { notFound, requireCount, requireId, requireIntegerIn, requireText } from '../validate';
import { commit, type PgContext } from './context';
import type { Sql } from './sql';
import { moveTaskAsFacade, runStatusTarget } from './taskFacade';
import type { PgTaskStore } from './tasks';

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

interface ResultRow {
  image_path: string;
  caption: string | null;
  score: number | null;
  error: string | null;
  created_at: number;
}

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

export class PgBatchJobStore implements BatchJobStore {
  constructor(
    private readonly context: PgContext,
    private readonly tasks: PgTaskStore,
  ) {}

  private get sql(): Sql {
    return this.context.db.sql;
  }

  private async requireJob(sql: Sql, id: number, forUpdate = false): Promise<JobRow> {
    requireId(id, 'jobId');
    if (forUpdate) await sql.run('SELECT 1 FROM batch_jobs WHERE id = ? FOR UPDATE', [id]);
    return (await sql.one<JobRow>(`${SELECT_JOBS} WHERE j.id = ?`, [id])) ?? notFound('Batch job', id);
  }

  async create(input: BatchJobInput): Promise<BatchJobRecord> {
    requireText(input.inputPath, 'inputPath', 4096);
    requireText(input.modelPath, 'modelPath', 4096);
    requireCount(input.total, 'total');
    const decoding = objectJson(input.decoding, 'decoding');
    if (input.taskParams !== undefined) objectJson(input.taskParams, 'taskParams');
    const id = await commit(this.context, async (sql, changes) => {
      if (input.runId != null) {
        requireId(input.runId, 'runId');
        if (!(await sql.one('SELECT 1 FROM runs WHERE id = ?', [input.runId]))) notFound('Run', input.runId);
      }
      const id = (await sql.value<number>(
        `INSERT INTO batch_jobs (input_path, model_path, run_id, decoding, status, total, created_at)
         VALUES (?, ?, ?, ?, 'queued', ?, ?) RETURNING id`,
        [input.inputPath, input.modelPath, input.runId ?? null, decoding, input.total, this.context.clock()],
      )) as number;
      const taskId = await this.tasks.insertIn(
        sql,
        { kind: 'batch', title: `Captioning ${input.inputPath}`, params: input.taskParams ?? { jobId: id }, subject: { type: 'batchJob', id }, placement: input.placement ?? 'any' },
        changes,
      );
      await sql.run('UPDATE batch_jobs SET task_id = ? WHERE id = ?', [taskId, id]);
      return id;
    });
    return toRecord(await this.requireJob(this.sql, id));
  }

  async get(id: number): Promise<BatchJobRecord | null> {
    if (!Number.isSafeInteger(id)) return null;
    const row = await this.sql.one<JobRow>(`${SELECT_JOBS} WHERE j.id = ?`, [id]);
    return row ? toRecord(row) : null;
  }

  async list(): Promise<BatchJobRecord[]> {
    return (await this.sql.all<JobRow>(`${SELECT_JOBS} ORDER BY j.created_at DESC, j.id DESC`)).map(toRecord);
  }

  async setStatus(id: number, status: BatchJobStatus, change: { error?: string | null } = {}): Promise<BatchJobRecord> {
    if (!BATCH_JOB_STATUSES.includes(status)) {
      throw new ApiError('invalid_request', `status must be one of ${BATCH_JOB_STATUSES.join(', ')} (got ${String(status)}).`);
    }
    await commit(this.context, async (sql, changes) => {
      const current = await this.requireJob(sql, id, true);
      if (status === current.status) {
        if (change.error !== undefined && status !== 'running' && status !== 'queued') {
          await sql.run('UPDATE batch_jobs SET error = ? WHERE id = ?', [change.error, id]);
        }
        return;
      }
      if (status === 'queued') throw new ApiError('conflict', `Batch job ${id} is ${current.status} and cannot become queued again.`);
      await moveTaskAsFacade(
        sql,
        this.tasks,
        this.context.taskOwner,
        { what: `Batch job ${id}`, from: current.status, to: status, taskId: current.task_id, target: runStatusTarget(status), error: change.error },
        changes,
      );
    });
    return toRecord(await this.requireJob(this.sql, id));
  }

  async addResults(jobId: number, results: BatchResultInput[]): Promise<void> {
    results.forEach((result, index) => requireText(result.imagePath, `results[${index}].imagePath`, 4096));
    // One row per image path: the last result given for a path wins, as with one upsert each.
    const latest = new Map<string, BatchResultInput>();
    for (const result of results) latest.set(result.imagePath, result);
    const unique = [...latest.values()];
    const now = this.context.clock();
    await this.context.db.transaction(async (sql) => {
      requireId(jobId, 'jobId');
      if (!(await sql.one('SELECT 1 FROM batch_jobs WHERE id = ?', [jobId]))) notFound('Batch job', jobId);
      if (unique.length) {
        await sql.run(
          `INSERT INTO batch_results (job_id, image_path, caption, score, error, created_at)
           SELECT ?::bigint, path, caption, score, error, ?::bigint
             FROM unnest(?::text[], ?::text[], ?::double precision[], ?::text[]) AS r(path, caption, score, error)
           ON CONFLICT (job_id, image_path) DO UPDATE SET caption = excluded.caption, score = excluded.score,
             error = excluded.error, created_at = excluded.created_at`,
          [
            jobId,
            now,
            unique.map((result) => result.imagePath),
            unique.map((result) => result.caption),
            unique.map((result) => {
              const score = result.score ?? null;
              return score !== null && Number.isFinite(score) ? score : null;
            }),
            unique.map((result) => result.error ?? null),
          ],
        );
      }
      await sql.run(
        `UPDATE tasks SET heartbeat_at = ? WHERE id = (SELECT task_id FROM batch_jobs WHERE id = ?) AND state IN ('running', 'stopping')`,
        [now, jobId],
      );
    });
  }

  async results(jobId: number, options: { limit?: number; offset?: number } = {}): Promise<BatchResult[]> {
    await this.requireJob(this.sql, jobId);
    const limit = options.limit === undefined ? null : requireIntegerIn(options.limit, 'limit', 1, 10_000_000);
    const offset = options.offset === undefined ? 0 : requireIntegerIn(options.offset, 'offset', 0, Number.MAX_SAFE_INTEGER);
    const rows = await this.sql.all<ResultRow>('SELECT * FROM batch_results WHERE job_id = ? ORDER BY image_path COLLATE "C" LIMIT ? OFFSET ?', [
      jobId,
      limit,
      offset,
    ]);
    return rows.map((row) => ({
      imagePath: row.image_path,
      caption: row.caption,
      score: row.score,
      error: row.error,
      createdAt: isoTime(row.created_at),
    }));
  }

  async donePaths(jobId: number): Promise<string[]> {
    await this.requireJob(this.sql, jobId);
    return this.sql.column<string>('SELECT image_path FROM batch_results WHERE job_id = ? ORDER BY image_path COLLATE "C"', [jobId]);
  }

  async heartbeat(jobId: number): Promise<void> {
    await commit(this.context, async (sql) => {
      const job = await this.requireJob(sql, jobId);
      if (job.task_id === null) throw new ApiError('conflict', `Batch job ${jobId} is ${job.status} and its task was deleted; it takes no heartbeats.`);
      await this.tasks.heartbeatIn(sql, job.task_id, this.context.taskOwner, null);
    });
  }

  async delete(id: number): Promise<void> {
    await commit(this.context, async (sql, changes) => {
      const job = await this.requireJob(sql, id, true);
      const shardTasks = await sql.column<number>('SELECT task_id FROM batch_shards WHERE job_id = ? AND task_id IS NOT NULL', [id]);
      for (const taskId of shardTasks) {
        await sql.run('DELETE FROM tasks WHERE id = ?', [taskId]);
        changes.deletedTasks.add(taskId);
      }
      await sql.run('DELETE FROM batch_jobs WHERE id = ?', [id]);
      if (job.task_id !== null) {
        await sql.run('DELETE FROM tasks WHERE id = ?', [job.task_id]);
        changes.deletedTasks.add(job.task_id);
      }
    });
  }

  // ─── shards ────────────────────────────────────────────────────────────────

  async addShard(jobId: number, shard: BatchShardInput, step: BatchPlanStep): Promise<boolean> {
    const images = shardImagesJson(shard);
    requirePlanStep(step);
    return commit(this.context, async (sql, changes) => {
      // The job's row lock orders planners of the same job (a stale one and its successor).
      const job = await this.requireJob(sql, jobId, true);
      if (await sql.one('SELECT 1 FROM batch_shards WHERE job_id = ? AND shard = ?', [jobId, shard.shard])) return false;
      // A shard goes where its job was queued: a job for the workers keeps every shard for them.
      const placement = job.task_id === null ? undefined : await sql.value<TaskPlacement>('SELECT placement FROM tasks WHERE id = ?', [job.task_id]);
      const taskId = await this.tasks.insertIn(
        sql,
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
      await sql.run('INSERT INTO batch_shards (job_id, shard, task_id, first_ordinal, size, images) VALUES (?, ?, ?, ?, ?, ?::jsonb)', [
        jobId,
        shard.shard,
        taskId,
        shard.firstOrdinal,
        shard.images.length,
        images,
      ]);
      await this.moveCursor(sql, jobId, step, false);
      return true;
    });
  }

  async finishPlan(jobId: number, step: BatchPlanStep): Promise<void> {
    requirePlanStep(step);
    await commit(this.context, async (sql) => {
      await this.requireJob(sql, jobId, true);
      await this.moveCursor(sql, jobId, step, true);
    });
  }

  private async moveCursor(sql: Sql, jobId: number, step: BatchPlanStep, planned: boolean): Promise<void> {
    const changed = await sql.run(
      `UPDATE batch_job_settings SET plan_listed = ?, plan_ordinals = ?, ignored = ignored + ?, excluded = excluded + ?,
         planned = ?, total = CASE WHEN ? THEN ?::bigint ELSE total END WHERE job_id = ?`,
      [step.listed, step.ordinals, step.ignored, step.excluded, planned, planned, step.ordinals, jobId],
    );
    if (changed === 0) notFound('Batch job settings', jobId);
  }

  async plan(jobId: number): Promise<BatchPlan> {
    await this.requireJob(this.sql, jobId);
    const row = await this.sql.one<{ plan_listed: number; plan_ordinals: number; planned: boolean; shards: number }>(
      `SELECT plan_listed, plan_ordinals, planned, (SELECT COUNT(*) FROM batch_shards WHERE job_id = ?) AS shards
         FROM batch_job_settings WHERE job_id = ?`,
      [jobId, jobId],
    );
    if (!row) notFound('Batch job settings', jobId);
    return { listed: row.plan_listed, ordinals: row.plan_ordinals, planned: row.planned, shards: row.shards };
  }

  async shards(jobId: number): Promise<BatchShardRecord[]> {
    await this.requireJob(this.sql, jobId);
    const rows = await this.sql.all<{
      job_id: number;
      shard: number;
      task_id: number | null;
      first_ordinal: number;
      size: number;
      state: TaskState | null;
      attempts: number | null;
      error: string | null;
    }>(`${SELECT_SHARDS} WHERE s.job_id = ? ORDER BY s.shard`, [jobId]);
    return rows.map((row) => ({
      jobId: row.job_id,
      shard: row.shard,
      taskId: row.task_id,
      firstOrdinal: row.first_ordinal,
      size: row.size,
      state: row.state,
      attempts: row.attempts ?? 0,
      error: row.error,
    }));
  }

  async shardImages(jobId: number, shard: number): Promise<{ firstOrdinal: number; images: string[] }> {
    requireId(jobId, 'jobId');
    const row = await this.sql.one<{ first_ordinal: number; images: string }>('SELECT first_ordinal, images FROM batch_shards WHERE job_id = ? AND shard = ?', [
      jobId,
      shard,
    ]);
    if (!row) notFound(`Shard of batch job ${jobId}`, shard);
    return { firstOrdinal: row.first_ordinal, images: parseStringArray(row.images) };
  }
}
