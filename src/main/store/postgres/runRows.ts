/** Reading one run in PostgreSQL (the SELECT and the record are shared, in ../runRows.ts). */
import type { RunRecord } from '../../../shared/storeTypes';
import type { RunFiles } from '../files';
import { SELECT_RUNS, toRunRecord, type RunRow } from '../runRows';
import type { Sql } from './sql';

export { SELECT_RUNS, toRunRecord, type RunRow };

export async function readRun(context: { files: RunFiles }, sql: Sql, id: number): Promise<RunRecord | null> {
  const row = await sql.one<RunRow>(`${SELECT_RUNS} WHERE r.id = ?`, [id]);
  return row ? toRunRecord(context, row) : null;
}
