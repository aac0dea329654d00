/** Datasets as both stores keep them: the row, the validated values of a registration, its statement and the record. */
import { resolve } from 'node:path';
import type { DatasetRecord } from '../../shared/storeTypes';
import { isoTime } from './clock';
import { objectJson, parseObject } from './json';
import type { DatasetInput } from './storage';
import { requireText } from './validate';

export interface DatasetRow {
  id: number;
  name: string;
  path: string;
  format: string;
  stats: string;
  created_at: number;
  updated_at: number;
}

/** A dataset is registered once per root path; registering the path again refreshes it. */
export const UPSERT_DATASET = `INSERT INTO datasets (name, path, format, stats, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)
  ON CONFLICT (path) DO UPDATE SET name = excluded.name, format = excluded.format,
    stats = excluded.stats, updated_at = excluded.updated_at
  RETURNING *`;

export const SELECT_DATASETS = 'SELECT * FROM datasets ORDER BY created_at DESC, id DESC';
export const UPDATE_DATASET_STATS = 'UPDATE datasets SET stats = ?, updated_at = ? WHERE id = ? RETURNING *';

/** UPSERT_DATASET's values: the name trimmed, the path absolute. */
export function datasetValues(input: DatasetInput, now: number): unknown[] {
  requireText(input.name, 'name', 200);
  requireText(input.format, 'format', 100);
  const path = resolve(requireText(input.path, 'path', 4096));
  const stats = objectJson(input.stats ?? {}, 'stats');
  return [input.name.trim(), path, input.format, stats, now, now];
}

export function datasetRecord(row: DatasetRow): DatasetRecord {
  return {
    id: row.id,
    name: row.name,
    path: row.path,
    format: row.format,
    stats: parseObject(row.stats),
    createdAt: isoTime(row.created_at),
    updatedAt: isoTime(row.updated_at),
  };
}
