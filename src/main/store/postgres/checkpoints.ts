/** Checkpoints and artifacts in PostgreSQL: files under the data directory, recorded per run by relative path. */
import { basename } from 'node:path';
import type { ArtifactRecord, CheckpointRecord } from '../../../shared/storeTypes';
import { isoTime } from '../clock';
import { numberRecordJson, objectJson, parseNumberRecord, parseObject } from '../json';
import type { ArtifactInput, ArtifactStore, CheckpointInput, CheckpointStore } from '../storage';
import { notFound, requireCount, requireId, requireText } from '../validate';
import type { PgContext } from './context';
import type { Sql } from './sql';

interface CheckpointRow {
  id: number;
  run_id: number;
  epoch: number;
  step: number;
  path: string;
  size_bytes: number;
  metrics: string;
  is_best: number;
  created_at: number;
}

interface ArtifactRow {
  id: number;
  run_id: number;
  kind: string;
  name: string;
  path: string;
  size_bytes: number;
  meta: string;
  created_at: number;
}

export async function requireRunIn(sql: Sql, runId: number, field = 'runId'): Promise<void> {
  requireId(runId, field);
  if (!(await sql.one('SELECT 1 FROM runs WHERE id = ?', [runId]))) notFound('Run', runId);
}

export class PgCheckpointStore implements CheckpointStore {
  constructor(private readonly context: PgContext) {}

  private toRecord(row: CheckpointRow): CheckpointRecord {
    return {
      id: row.id,
      runId: row.run_id,
      epoch: row.epoch,
      step: row.step,
      path: this.context.files.toAbsolute(row.path),
      sizeBytes: row.size_bytes,
      metrics: parseNumberRecord(row.metrics),
      isBest: row.is_best === 1,
      createdAt: isoTime(row.created_at),
    };
  }

  async add(input: CheckpointInput): Promise<CheckpointRecord> {
    const { db, files } = this.context;
    requireCount(input.epoch, 'epoch');
    requireCount(input.step, 'step');
    const stored = files.toStored(requireText(input.path, 'path', 4096));
    const metrics = numberRecordJson(input.metrics ?? {}, 'metrics');
    const size = files.sizeOf(files.toAbsolute(stored));
    const row = await db.transaction(async (sql) => {
      await requireRunIn(sql, input.runId);
      if (input.isBest) await sql.run('UPDATE checkpoints SET is_best = 0 WHERE run_id = ?', [input.runId]);
      return (await sql.one<CheckpointRow>(
        `INSERT INTO checkpoints (run_id, epoch, step, path, size_bytes, metrics, is_best, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (run_id, path) DO UPDATE SET epoch = excluded.epoch, step = excluded.step,
           size_bytes = excluded.size_bytes, metrics = excluded.metrics,
           is_best = GREATEST(excluded.is_best, checkpoints.is_best), created_at = excluded.created_at
         RETURNING *`,
        [input.runId, input.epoch, input.step, stored, size, metrics, input.isBest ? 1 : 0, this.context.clock()],
      )) as CheckpointRow;
    });
    return this.toRecord(row);
  }

  async list(runId: number): Promise<CheckpointRecord[]> {
    const sql = this.context.db.sql;
    await requireRunIn(sql, runId);
    return (await sql.all<CheckpointRow>('SELECT * FROM checkpoints WHERE run_id = ? ORDER BY step, id', [runId])).map((row) => this.toRecord(row));
  }

  async latest(runId: number): Promise<CheckpointRecord | null> {
    const sql = this.context.db.sql;
    await requireRunIn(sql, runId);
    const row = await sql.one<CheckpointRow>('SELECT * FROM checkpoints WHERE run_id = ? ORDER BY step DESC, id DESC LIMIT 1', [runId]);
    return row ? this.toRecord(row) : null;
  }

  async remove(checkpointId: number, options: { keepFiles?: boolean } = {}): Promise<void> {
    requireId(checkpointId, 'checkpointId');
    const path = await this.context.db.sql.value<string>('DELETE FROM checkpoints WHERE id = ? RETURNING path', [checkpointId]);
    if (path === undefined) notFound('Checkpoint', checkpointId);
    if (!options.keepFiles) this.context.files.removeStored(path);
  }
}

export class PgArtifactStore implements ArtifactStore {
  constructor(private readonly context: PgContext) {}

  private toRecord(row: ArtifactRow): ArtifactRecord {
    return {
      id: row.id,
      runId: row.run_id,
      kind: row.kind,
      name: row.name,
      path: this.context.files.toAbsolute(row.path),
      sizeBytes: row.size_bytes,
      meta: parseObject(row.meta),
      createdAt: isoTime(row.created_at),
    };
  }

  async add(input: ArtifactInput): Promise<ArtifactRecord> {
    const { db, files } = this.context;
    requireText(input.kind, 'kind', 100);
    const stored = files.toStored(requireText(input.path, 'path', 4096));
    const meta = objectJson(input.meta ?? {}, 'meta');
    const name = input.name?.trim() || basename(stored);
    const size = files.sizeOf(files.toAbsolute(stored));
    const row = await db.transaction(async (sql) => {
      await requireRunIn(sql, input.runId);
      return (await sql.one<ArtifactRow>(
        `INSERT INTO artifacts (run_id, kind, name, path, size_bytes, meta, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (run_id, path) DO UPDATE SET kind = excluded.kind, name = excluded.name,
           size_bytes = excluded.size_bytes, meta = excluded.meta, created_at = excluded.created_at
         RETURNING *`,
        [input.runId, input.kind, name, stored, size, meta, this.context.clock()],
      )) as ArtifactRow;
    });
    return this.toRecord(row);
  }

  async list(runId: number): Promise<ArtifactRecord[]> {
    const sql = this.context.db.sql;
    await requireRunIn(sql, runId);
    return (await sql.all<ArtifactRow>('SELECT * FROM artifacts WHERE run_id = ? ORDER BY id', [runId])).map((row) => this.toRecord(row));
  }
}
