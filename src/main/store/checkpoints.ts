/** Checkpoints and artifacts in SQLite: files under the data directory, recorded per run (statements in checkpointRows.ts). */
import type { ArtifactRecord, CheckpointRecord } from '../../shared/storeTypes';
import {
  artifactRecord,
  artifactValues,
  checkpointRecord,
  checkpointValues,
  CLEAR_BEST_CHECKPOINT,
  SELECT_ARTIFACTS,
  SELECT_CHECKPOINTS,
  SELECT_LATEST_CHECKPOINT,
  UPSERT_ARTIFACT,
  UPSERT_CHECKPOINT,
  type ArtifactRow,
  type CheckpointRow,
} from './checkpointRows';
import type { SqliteContext } from './context';
import type { ArtifactInput, ArtifactStore, CheckpointInput, CheckpointStore } from './storage';
import { notFound, requireId } from './validate';

function requireRun(context: SqliteContext, runId: number, field = 'runId'): void {
  requireId(runId, field);
  if (!context.db.prepare('SELECT 1 FROM runs WHERE id = ?').get(runId)) notFound('Run', runId);
}

export class SqliteCheckpointStore implements CheckpointStore {
  constructor(private readonly context: SqliteContext) {}

  async add(input: CheckpointInput): Promise<CheckpointRecord> {
    const { db, files } = this.context;
    const values = checkpointValues(input, files, this.context.clock());
    const row = db.transaction(() => {
      requireRun(this.context, input.runId);
      if (input.isBest) db.prepare(CLEAR_BEST_CHECKPOINT).run(input.runId);
      return db.prepare(UPSERT_CHECKPOINT).get(...values) as CheckpointRow;
    })();
    return checkpointRecord(row, files);
  }

  async list(runId: number): Promise<CheckpointRecord[]> {
    requireRun(this.context, runId);
    const rows = this.context.db.prepare(SELECT_CHECKPOINTS).all(runId) as CheckpointRow[];
    return rows.map((row) => checkpointRecord(row, this.context.files));
  }

  async latest(runId: number): Promise<CheckpointRecord | null> {
    requireRun(this.context, runId);
    const row = this.context.db.prepare(SELECT_LATEST_CHECKPOINT).get(runId) as CheckpointRow | undefined;
    return row ? checkpointRecord(row, this.context.files) : null;
  }

  async remove(checkpointId: number, options: { keepFiles?: boolean } = {}): Promise<void> {
    requireId(checkpointId, 'checkpointId');
    const { db, files } = this.context;
    const path = db.prepare('DELETE FROM checkpoints WHERE id = ? RETURNING path').pluck().get(checkpointId) as string | undefined;
    if (path === undefined) notFound('Checkpoint', checkpointId);
    if (!options.keepFiles) files.removeStored(path);
  }
}

export class SqliteArtifactStore implements ArtifactStore {
  constructor(private readonly context: SqliteContext) {}

  async add(input: ArtifactInput): Promise<ArtifactRecord> {
    const { db, files } = this.context;
    const values = artifactValues(input, files, this.context.clock());
    const row = db.transaction(() => {
      requireRun(this.context, input.runId);
      return db.prepare(UPSERT_ARTIFACT).get(...values) as ArtifactRow;
    })();
    return artifactRecord(row, files);
  }

  async list(runId: number): Promise<ArtifactRecord[]> {
    requireRun(this.context, runId);
    const rows = this.context.db.prepare(SELECT_ARTIFACTS).all(runId) as ArtifactRow[];
    return rows.map((row) => artifactRecord(row, this.context.files));
  }
}
