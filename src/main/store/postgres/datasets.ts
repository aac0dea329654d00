/** Datasets in PostgreSQL: registered once per root path, with the stats the datasets page shows (statements in ../datasetRows.ts). */
import { resolve } from 'node:path';
import type { DatasetRecord, JsonObject } from '../../../shared/storeTypes';
import { datasetRecord, datasetValues, SELECT_DATASETS, UPDATE_DATASET_STATS, UPSERT_DATASET, type DatasetRow } from '../datasetRows';
import { objectJson } from '../json';
import type { DatasetInput, DatasetStore } from '../storage';
import { notFound, requireId } from '../validate';
import type { PgContext } from './context';

export class PgDatasetStore implements DatasetStore {
  constructor(private readonly context: PgContext) {}

  private get sql() {
    return this.context.db.sql;
  }

  async register(input: DatasetInput): Promise<DatasetRecord> {
    const row = (await this.sql.one<DatasetRow>(UPSERT_DATASET, datasetValues(input, this.context.clock()))) as DatasetRow;
    return datasetRecord(row);
  }

  async get(id: number): Promise<DatasetRecord | null> {
    if (!Number.isSafeInteger(id)) return null;
    const row = await this.sql.one<DatasetRow>('SELECT * FROM datasets WHERE id = ?', [id]);
    return row ? datasetRecord(row) : null;
  }

  async getByPath(path: string): Promise<DatasetRecord | null> {
    const row = await this.sql.one<DatasetRow>('SELECT * FROM datasets WHERE path = ?', [resolve(path)]);
    return row ? datasetRecord(row) : null;
  }

  async list(): Promise<DatasetRecord[]> {
    return (await this.sql.all<DatasetRow>(SELECT_DATASETS)).map(datasetRecord);
  }

  async updateStats(id: number, stats: JsonObject): Promise<DatasetRecord> {
    requireId(id, 'datasetId');
    const row = await this.sql.one<DatasetRow>(UPDATE_DATASET_STATS, [objectJson(stats, 'stats'), this.context.clock(), id]);
    return row ? datasetRecord(row) : notFound('Dataset', id);
  }

  async delete(id: number): Promise<void> {
    requireId(id, 'datasetId');
    if ((await this.sql.run('DELETE FROM datasets WHERE id = ?', [id])) === 0) notFound('Dataset', id);
  }
}
