/** Checkpoints and artifacts in SQLite: files under the data directory, recorded per run. */
import { basename } from 'node:path';
import type { ArtifactRecord, CheckpointRecord } from '../../shared/storeTypes';
import { isoTime } from './clock';
import type { SqliteContext } from './context';
import { numberRecordJson, objectJson, parseNumberRecord, parseObject } from './json';
import type { ArtifactInput, ArtifactStore, CheckpointInput, CheckpointStore } from './storage';
import { notFound, requireCount, requireId, requireText } from './validate';

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

function requireRun(context: SqliteContext, runId: number, field = 'runId'): void {
  requireId(runId, field);
  if (!context.db.prepare('SELECT 1 FROM runs WHERE id = ?').get(runId)) notFound('Run', runId);
}

export class SqliteCheckpointStore implements CheckpointStore {
  constructor(private readonly context: SqliteContext) {}

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
    const id = db.transaction(() => {
      requireRun(this.context, input.runId);
      // One best per run; re-recording a checkpoint without the flag keeps its mark.
      if (input.isBest) db.prepare('UPDATE checkpoints SET is_best = 0 WHERE run_id = ?').run(input.runId);
      return db
        .prepare(
          `INSERT INTO checkpoints (run_id, epoch, step, path, size_bytes, metrics, is_best, created_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT (run_id, path) DO UPDATE SET epoch = excluded.epoch, step = excluded.step,
             size_bytes = excluded.size_bytes, metrics = excluded.metrics,
             is_best = MAX(excluded.is_best, checkpoints.is_best), created_at = excluded.created_at
           RETURNING id`,
        )
        .pluck()
        .get(input.runId, input.epoch, input.step, stored, size, metrics, input.isBest ? 1 : 0, this.context.clock()) as number;
    })();
    return this.toRecord(this.context.db.prepare('SELECT * FROM checkpoints WHERE id = ?').get(id) as CheckpointRow);
  }

  async list(runId: number): Promise<CheckpointRecord[]> {
    requireRun(this.context, runId);
    const rows = this.context.db.prepare('SELECT * FROM checkpoints WHERE run_id = ? ORDER BY step, id').all(runId) as CheckpointRow[];
    return rows.map((row) => this.toRecord(row));
  }

  async latest(runId: number): Promise<CheckpointRecord | null> {
    requireRun(this.context, runId);
    const row = this.context.db
      .prepare('SELECT * FROM checkpoints WHERE run_id = ? ORDER BY step DESC, id DESC LIMIT 1')
      .get(runId) as CheckpointRow | undefined;
    return row ? this.toRecord(row) : null;
  }

  async remove(checkpointId: number, options: { keepFiles?: boolean } = {}): Promise<void> {
    requireId(checkpointId, 'checkpointId');
    const { db, files } = this.context;
    const path = db.transaction(() => {
      const stored = db.prepare('SELECT path FROM checkpoints WHERE id = ?').pluck().get(checkpointId) as string | undefined;
      if (stored === undefined) notFound('Checkpoint', checkpointId);
      db.prepare('DELETE FROM checkpoints WHERE id = ?').run(checkpointId);
      return stored;
    })();
    if (!options.keepFiles) files.removeStored(path);
  }
}

export class SqliteArtifactStore implements ArtifactStore {
  constructor(private readonly context: SqliteContext) {}

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
    const id = db.transaction(() => {
      requireRun(this.context, input.runId);
      return db
        .prepare(
          `INSERT INTO artifacts (run_id, kind, name, path, size_bytes, meta, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT (run_id, path) DO UPDATE SET kind = excluded.kind, name = excluded.name,
             size_bytes = excluded.size_bytes, meta = excluded.meta, created_at = excluded.created_at
           RETURNING id`,
        )
        .pluck()
        .get(input.runId, input.kind, name, stored, size, meta, this.context.clock()) as number;
    })();
    return this.toRecord(db.prepare('SELECT * FROM artifacts WHERE id = ?').get(id) as ArtifactRow);
  }

  async list(runId: number): Promise<ArtifactRecord[]> {
    requireRun(this.context, runId);
    const rows = this.context.db.prepare('SELECT * FROM artifacts WHERE run_id = ? ORDER BY id').all(runId) as ArtifactRow[];
    return rows.map((row) => this.toRecord(row));
  }
}
