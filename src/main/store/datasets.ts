/** Datasets in SQLite: registered once per root path, with the stats the datasets page shows. */
import { resolve } from 'node:path';
import type { DatasetRecord, JsonObject } from '../../shared/storeTypes';
import { isoTime } from './clock';
import type { SqliteContext } from './context';
import { objectJson, parseObject } from './json';
import type { DatasetInput, DatasetStore } from './storage';
import { notFound, requireId, requireText } from './validate';

interface DatasetRow {
  id: number;
  name: string;
  path: string;
  format: string;
  stats: string;
  created_at: number;
  updated_at: number;
}

function toRecord(row: DatasetRow): DatasetRecord {
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

export class SqliteDatasetStore implements DatasetStore {
  constructor(private readonly context: SqliteContext) {}

  async register(input: DatasetInput): Promise<DatasetRecord> {
    requireText(input.name, 'name', 200);
    requireText(input.format, 'format', 100);
    const path = resolve(requireText(input.path, 'path', 4096));
    const stats = objectJson(input.stats ?? {}, 'stats');
    const now = this.context.clock();
    const row = this.context.db
      .prepare(
        `INSERT INTO datasets (name, path, format, stats, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (path) DO UPDATE SET name = excluded.name, format = excluded.format,
           stats = excluded.stats, updated_at = excluded.updated_at
         RETURNING *`,
      )
      .get(input.name.trim(), path, input.format, stats, now, now) as DatasetRow;
    return toRecord(row);
  }

  async get(id: number): Promise<DatasetRecord | null> {
    const row = this.context.db.prepare('SELECT * FROM datasets WHERE id = ?').get(id) as DatasetRow | undefined;
    return row ? toRecord(row) : null;
  }

  async getByPath(path: string): Promise<DatasetRecord | null> {
    const row = this.context.db.prepare('SELECT * FROM datasets WHERE path = ?').get(resolve(path)) as DatasetRow | undefined;
    return row ? toRecord(row) : null;
  }

  async list(): Promise<DatasetRecord[]> {
    const rows = this.context.db.prepare('SELECT * FROM datasets ORDER BY created_at DESC, id DESC').all() as DatasetRow[];
    return rows.map(toRecord);
  }

  async updateStats(id: number, stats: JsonObject): Promise<DatasetRecord> {
    requireId(id, 'datasetId');
    const row = this.context.db
      .prepare('UPDATE datasets SET stats = ?, updated_at = ? WHERE id = ? RETURNING *')
      .get(objectJson(stats, 'stats'), this.context.clock(), id) as DatasetRow | undefined;
    return row ? toRecord(row) : notFound('Dataset', id);
  }

  async delete(id: number): Promise<void> {
    requireId(id, 'datasetId');
    const result = this.context.db.prepare('DELETE FROM datasets WHERE id = ?').run(id);
    if (result.changes === 0) notFound('Dataset', id);
  }
}
