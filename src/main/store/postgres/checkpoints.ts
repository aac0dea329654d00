/** Checkpoints and artifacts in PostgreSQL: files under the data directory, recorded per run by relative path (statements in ../checkpointRows.ts). */
import type { ArtifactRecord, CheckpointRecord } from '../../../shared/storeTypes';
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
} from '../checkpointRows';
import type { ArtifactInput, ArtifactStore, CheckpointInput, CheckpointStore } from '../storage';
import { notFound, requireId } from '../validate';
import type { PgContext } from './context';
import type { Sql } from './sql';

export async function requireRunIn(sql: Sql, runId: number, field = 'runId'): Promise<void> {
  requireId(runId, field);
  if (!(await sql.one('SELECT 1 FROM runs WHERE id = ?', [runId]))) notFound('Run', runId);
}

export class PgCheckpointStore implements CheckpointStore {
  constructor(private readonly context: PgContext) {}

  async add(input: CheckpointInput): Promise<CheckpointRecord> {
    const { db, files } = this.context;
    const values = checkpointValues(input, files, this.context.clock());
    const row = await db.transaction(async (sql) => {
      await requireRunIn(sql, input.runId);
      if (input.isBest) await sql.run(CLEAR_BEST_CHECKPOINT, [input.runId]);
      return (await sql.one<CheckpointRow>(UPSERT_CHECKPOINT, values)) as CheckpointRow;
    });
    return checkpointRecord(row, files);
  }

  async list(runId: number): Promise<CheckpointRecord[]> {
    const sql = this.context.db.sql;
    await requireRunIn(sql, runId);
    return (await sql.all<CheckpointRow>(SELECT_CHECKPOINTS, [runId])).map((row) => checkpointRecord(row, this.context.files));
  }

  async latest(runId: number): Promise<CheckpointRecord | null> {
    const sql = this.context.db.sql;
    await requireRunIn(sql, runId);
    const row = await sql.one<CheckpointRow>(SELECT_LATEST_CHECKPOINT, [runId]);
    return row ? checkpointRecord(row, this.context.files) : null;
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

  async add(input: ArtifactInput): Promise<ArtifactRecord> {
    const { db, files } = this.context;
    const values = artifactValues(input, files, this.context.clock());
    const row = await db.transaction(async (sql) => {
      await requireRunIn(sql, input.runId);
      return (await sql.one<ArtifactRow>(UPSERT_ARTIFACT, values)) as ArtifactRow;
    });
    return artifactRecord(row, files);
  }

  async list(runId: number): Promise<ArtifactRecord[]> {
    const sql = this.context.db.sql;
    await requireRunIn(sql, runId);
    return (await sql.all<ArtifactRow>(SELECT_ARTIFACTS, [runId])).map((row) => artifactRecord(row, this.context.files));
  }
}
