/** Datasets in PostgreSQL: registered once per root path, with the stats the datasets page shows. */
import { resolve } from 'node:path';
import type { DatasetRecord, JsonObject } from '../../../shared/storeTypes';
import { isoTime } from '../clock';
import { objectJson, parseObject } from '../json';
import type { DatasetInput, DatasetStore } from '../storage';
import { notFound, requireId, requireText } from '../validate';
import type { PgContext } from './context';

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

export class PgDatasetStore implements DatasetStore {
  constructor(private readonly context: PgContext) {}

  private get sql() {
    return this.context.db.sql;
  }

  async register(input: DatasetInput): Promise<DatasetRecord> {
    requireText(input.name, 'name', 200);
    requireText(input.format, 'format', 100);
    const path = resolve(requireText(input.path, 'path', 4096));
    const stats = objectJson(input.stats ?? {}, 'stats');
    const now = this.context.clock();
    const row = (await this.sql.one<DatasetRow>(
      `INSERT INTO datasets (name, path, format, stats, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (path) DO UPDATE SET name = excluded.name, format = excluded.format,
         stats = excluded.stats, updated_at = excluded.updated_at
       RETURNING *`,
      [input.name.trim(), path, input.format, stats, now, now],
    )) as DatasetRow;
    return toRecord(row);
  }

  async get(id: number): Promise<DatasetRecord | null> {
    if (!Number.isSafeInteger(id)) return null;
    const row = await this.sql.one<DatasetRow>('SELECT * FROM datasets WHERE id = ?', [id]);
    return row ? toRecord(row) : null;
  }

  async getByPath(path: string): Promise<DatasetRecord | null> {
    const row = await this.sql.one<DatasetRow>('SELECT * FROM datasets WHERE path = ?', [resolve(path)]);
    return row ? toRecord(row) : null;
  }

  async list(): Promise<DatasetRecord[]> {
    return (await this.sql.all<DatasetRow>('SELECT * FROM datasets ORDER BY created_at DESC, id DESC')).map(toRecord);
  }

  async updateStats(id: number, stats: JsonObject): Promise<DatasetRecord> {
    requireId(id, 'datasetId');
    const row = await this.sql.one<DatasetRow>('UPDATE datasets SET stats = ?, updated_at = ? WHERE id = ? RETURNING *', [
      objectJson(stats, 'stats'),
      this.context.clock(),
      id,
    ]);
    return row ? toRecord(row) : notFound('Dataset', id);
  }

  async delete(id: number): Promise<void> {
    requireId(id, 'datasetId');
    if ((await this.sql.run('DELETE FROM datasets WHERE id = ?', [id])) === 0) notFound('Dataset', id);
  }
}
