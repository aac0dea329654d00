/** Datasets in SQLite: registered once per root path, with the stats the datasets page shows (statements in datasetRows.ts). */
import { resolve } from 'node:path';
import type { DatasetRecord, JsonObject } from '../../shared/storeTypes';
import type { SqliteContext } from './context';
import { datasetRecord, datasetValues, SELECT_DATASETS, UPDATE_DATASET_STATS, UPSERT_DATASET, type DatasetRow } from './datasetRows';
import { objectJson } from './json';
import type { DatasetInput, DatasetStore } from './storage';
import { notFound, requireId } from './validate';

export class SqliteDatasetStore implements DatasetStore {
  constructor(private readonly context: SqliteContext) {}

  async register(input: DatasetInput): Promise<DatasetRecord> {
    const row = this.context.db.prepare(UPSERT_DATASET).get(...datasetValues(input, this.context.clock())) as DatasetRow;
    return datasetRecord(row);
  }

  async get(id: number): Promise<DatasetRecord | null> {
    const row = this.context.db.prepare('SELECT * FROM datasets WHERE id = ?').get(id) as DatasetRow | undefined;
    return row ? datasetRecord(row) : null;
  }

  async getByPath(path: string): Promise<DatasetRecord | null> {
    const row = this.context.db.prepare('SELECT * FROM datasets WHERE path = ?').get(resolve(path)) as DatasetRow | undefined;
    return row ? datasetRecord(row) : null;
  }

  async list(): Promise<DatasetRecord[]> {
    return (this.context.db.prepare(SELECT_DATASETS).all() as DatasetRow[]).map(datasetRecord);
  }

  async updateStats(id: number, stats: JsonObject): Promise<DatasetRecord> {
    requireId(id, 'datasetId');
    const row = this.context.db.prepare(UPDATE_DATASET_STATS).get(objectJson(stats, 'stats'), this.context.clock(), id) as DatasetRow | undefined;
    return row ? datasetRecord(row) : notFound('Dataset', id);
  }

  async delete(id: number): Promise<void> {
    requireId(id, 'datasetId');
    const result = this.context.db.prepare('DELETE FROM datasets WHERE id = ?').run(id);
    if (result.changes === 0) notFound('Dataset', id);
  }
}
