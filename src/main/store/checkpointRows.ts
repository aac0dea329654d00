/**
 * Checkpoints and artifacts as both stores keep them: the row shapes, the
 * validated values of an insert, the statements (written once, in the SQL
 * both SQLite and PostgreSQL accept) and the rows turned into records. Each
 * store only runs them with its own driver and transactions.
 */
import { basename } from 'node:path';
import type { ArtifactRecord, CheckpointRecord } from '../../shared/storeTypes';
import { isoTime } from './clock';
import type { RunFiles } from './files';
import { numberRecordJson, objectJson, parseNumberRecord, parseObject } from './json';
import type { ArtifactInput, CheckpointInput } from './storage';
import { requireCount, requireText } from './validate';

export interface CheckpointRow {
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

export interface ArtifactRow {
  id: number;
  run_id: number;
  kind: string;
  name: string;
  path: string;
  size_bytes: number;
  meta: string;
  created_at: number;
}

/** Only one checkpoint of a run is its best: cleared before a new best is recorded. */
export const CLEAR_BEST_CHECKPOINT = 'UPDATE checkpoints SET is_best = 0 WHERE run_id = ?';

/** Recording a path again updates it; re-recording a checkpoint without the best flag keeps its mark. */
export const UPSERT_CHECKPOINT = `INSERT INTO checkpoints (run_id, epoch, step, path, size_bytes, metrics, is_best, created_at)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?)
  ON CONFLICT (run_id, path) DO UPDATE SET epoch = excluded.epoch, step = excluded.step,
    size_bytes = excluded.size_bytes, metrics = excluded.metrics,
    is_best = CASE WHEN excluded.is_best > checkpoints.is_best THEN excluded.is_best ELSE checkpoints.is_best END,
    created_at = excluded.created_at
  RETURNING *`;

export const SELECT_CHECKPOINTS = 'SELECT * FROM checkpoints WHERE run_id = ? ORDER BY step, id';
export const SELECT_LATEST_CHECKPOINT = 'SELECT * FROM checkpoints WHERE run_id = ? ORDER BY step DESC, id DESC LIMIT 1';

export const UPSERT_ARTIFACT = `INSERT INTO artifacts (run_id, kind, name, path, size_bytes, meta, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)
  ON CONFLICT (run_id, path) DO UPDATE SET kind = excluded.kind, name = excluded.name,
    size_bytes = excluded.size_bytes, meta = excluded.meta, created_at = excluded.created_at
  RETURNING *`;

export const SELECT_ARTIFACTS = 'SELECT * FROM artifacts WHERE run_id = ? ORDER BY id';

/** UPSERT_CHECKPOINT's values; validates the input and measures the file now, before any transaction. */
export function checkpointValues(input: CheckpointInput, files: RunFiles, now: number): unknown[] {
  requireCount(input.epoch, 'epoch');
  requireCount(input.step, 'step');
  const stored = files.toStored(requireText(input.path, 'path', 4096));
  const metrics = numberRecordJson(input.metrics ?? {}, 'metrics');
  const size = files.sizeOf(files.toAbsolute(stored));
  return [input.runId, input.epoch, input.step, stored, size, metrics, input.isBest ? 1 : 0, now];
}

/** UPSERT_ARTIFACT's values; the name defaults to the file's. */
export function artifactValues(input: ArtifactInput, files: RunFiles, now: number): unknown[] {
  requireText(input.kind, 'kind', 100);
  const stored = files.toStored(requireText(input.path, 'path', 4096));
  const meta = objectJson(input.meta ?? {}, 'meta');
  const name = input.name?.trim() || basename(stored);
  const size = files.sizeOf(files.toAbsolute(stored));
  return [input.runId, input.kind, name, stored, size, meta, now];
}

export function checkpointRecord(row: CheckpointRow, files: RunFiles): CheckpointRecord {
  return {
    id: row.id,
    runId: row.run_id,
    epoch: row.epoch,
    step: row.step,
    path: files.toAbsolute(row.path),
    sizeBytes: row.size_bytes,
    metrics: parseNumberRecord(row.metrics),
    isBest: row.is_best === 1,
    createdAt: isoTime(row.created_at),
  };
}

export function artifactRecord(row: ArtifactRow, files: RunFiles): ArtifactRecord {
  return {
    id: row.id,
    runId: row.run_id,
    kind: row.kind,
    name: row.name,
    path: files.toAbsolute(row.path),
    sizeBytes: row.size_bytes,
    meta: parseObject(row.meta),
    createdAt: isoTime(row.created_at),
  };
}
