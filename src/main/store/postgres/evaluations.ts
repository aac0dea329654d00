/**
 * Evaluations in PostgreSQL: aggregate scores with the decoding settings and
 * metric definitions that produced them, and every image's caption and scores.
 */
import type { EvaluationItem, EvaluationRecord } from '../../../shared/storeTypes';
import {
  evaluationItem,
  evaluationRecord,
  evaluationValues,
  INSERT_EVALUATION,
  SELECT_EVALUATIONS,
  SELECT_RUN_EVALUATIONS,
  type EvaluationItemRow,
  type EvaluationItemValues,
  type EvaluationRow,
} from '../evaluationRows';
import type { EvaluationInput, EvaluationStore } from '../storage';
import { notFound, requireId, requireIntegerIn } from '../validate';
import type { PgContext } from './context';
import type { Sql } from './sql';

/** Items per INSERT: bounds the size of one statement for very large evaluations. */
const ITEMS_PER_STATEMENT = 2000;

export class PgEvaluationStore implements EvaluationStore {
  constructor(private readonly context: PgContext) {}

  private get sql() {
    return this.context.db.sql;
  }

  async create(input: EvaluationInput): Promise<EvaluationRecord> {
    const { decoding, definitions, aggregate, items } = evaluationValues(input);
    const id = await this.context.db.transaction(async (sql) => {
      const link = async (table: string, id: number | null | undefined, what: string, field: string) => {
        if (id == null) return null;
        requireId(id, field);
        if (!(await sql.one(`SELECT 1 FROM ${table} WHERE id = ?`, [id]))) notFound(what, id);
        return id;
      };
      const runId = await link('runs', input.runId, 'Run', 'runId');
      const checkpointId = await link('checkpoints', input.checkpointId, 'Checkpoint', 'checkpointId');
      const datasetId = await link('datasets', input.datasetId, 'Dataset', 'datasetId');
      const id = (await sql.value<number>(
        INSERT_EVALUATION,
        [runId, checkpointId, datasetId, input.split, decoding, definitions, aggregate, items.length, this.context.clock()],
      )) as number;
      await insertItems(sql, id, items);
      return id;
    });
    return (await this.get(id)) as EvaluationRecord;
  }

  async get(id: number): Promise<EvaluationRecord | null> {
    if (!Number.isSafeInteger(id)) return null;
    const row = await this.sql.one<EvaluationRow>('SELECT * FROM evaluations WHERE id = ?', [id]);
    return row ? evaluationRecord(row) : null;
  }

  async list(filter: { runId?: number } = {}): Promise<EvaluationRecord[]> {
    const rows =
      filter.runId === undefined
        ? await this.sql.all<EvaluationRow>(SELECT_EVALUATIONS)
        : await this.sql.all<EvaluationRow>(SELECT_RUN_EVALUATIONS, [filter.runId]);
    return rows.map(evaluationRecord);
  }

  async items(id: number, options: { limit?: number; offset?: number } = {}): Promise<EvaluationItem[]> {
    requireId(id, 'evaluationId');
    if (!(await this.sql.one('SELECT 1 FROM evaluations WHERE id = ?', [id]))) notFound('Evaluation', id);
    const limit = options.limit === undefined ? null : requireIntegerIn(options.limit, 'limit', 1, 10_000_000);
    const offset = options.offset === undefined ? 0 : requireIntegerIn(options.offset, 'offset', 0, Number.MAX_SAFE_INTEGER);
    const rows = await this.sql.all<EvaluationItemRow>('SELECT * FROM evaluation_items WHERE evaluation_id = ? ORDER BY image_id COLLATE "C" LIMIT ? OFFSET ?', [
      id,
      limit,
      offset,
    ]);
    return rows.map(evaluationItem);
  }

  async delete(id: number): Promise<void> {
    requireId(id, 'evaluationId');
    if ((await this.sql.run('DELETE FROM evaluations WHERE id = ?', [id])) === 0) notFound('Evaluation', id);
  }
}

async function insertItems(sql: Sql, evaluationId: number, items: readonly EvaluationItemValues[]): Promise<void> {
  for (let start = 0; start < items.length; start += ITEMS_PER_STATEMENT) {
    const chunk = items.slice(start, start + ITEMS_PER_STATEMENT);
    await sql.run(
      `INSERT INTO evaluation_items (evaluation_id, image_id, image_path, caption, reference_captions, scores)
       SELECT ?::bigint, * FROM unnest(?::text[], ?::text[], ?::text[], ?::jsonb[], ?::jsonb[])`,
      [
        evaluationId,
        chunk.map((item) => item[0]),
        chunk.map((item) => item[1]),
        chunk.map((item) => item[2]),
        chunk.map((item) => item[3]),
        chunk.map((item) => item[4]),
      ],
    );
  }
}
