/**
 * Evaluations in SQLite: aggregate scores with the decoding settings and
 * metric definitions that produced them, and every image's caption and scores.
 */
import type { EvaluationItem, EvaluationRecord } from '../../shared/storeTypes';
import type { SqliteContext } from './context';
import {
  evaluationItem,
  evaluationRecord,
  evaluationValues,
  INSERT_EVALUATION,
  SELECT_EVALUATIONS,
  SELECT_RUN_EVALUATIONS,
  type EvaluationItemRow,
  type EvaluationRow,
} from './evaluationRows';
import type { EvaluationInput, EvaluationStore } from './storage';
import { notFound, requireId, requireIntegerIn } from './validate';

export class SqliteEvaluationStore implements EvaluationStore {
  constructor(private readonly context: SqliteContext) {}

  async create(input: EvaluationInput): Promise<EvaluationRecord> {
    const { db } = this.context;
    const { decoding, definitions, aggregate, items } = evaluationValues(input);
    const insertItem = db.prepare(
      `INSERT INTO evaluation_items (evaluation_id, image_id, image_path, caption, reference_captions, scores)
       VALUES (?, ?, ?, ?, ?, ?)`,
    );
    const id = db.transaction(() => {
      const link = (table: string, id: number | null | undefined, what: string, field: string) => {
        if (id == null) return null;
        requireId(id, field);
        if (!db.prepare(`SELECT 1 FROM ${table} WHERE id = ?`).get(id)) notFound(what, id);
        return id;
      };
      const runId = link('runs', input.runId, 'Run', 'runId');
      const checkpointId = link('checkpoints', input.checkpointId, 'Checkpoint', 'checkpointId');
      const datasetId = link('datasets', input.datasetId, 'Dataset', 'datasetId');
      const id = db
        .prepare(INSERT_EVALUATION)
        .pluck()
        .get(runId, checkpointId, datasetId, input.split, decoding, definitions, aggregate, items.length, this.context.clock()) as number;
      for (const item of items) insertItem.run(id, ...item);
      return id;
    })();
    return (await this.get(id)) as EvaluationRecord;
  }

  async get(id: number): Promise<EvaluationRecord | null> {
    const row = this.context.db.prepare('SELECT * FROM evaluations WHERE id = ?').get(id) as EvaluationRow | undefined;
    return row ? evaluationRecord(row) : null;
  }

  async list(filter: { runId?: number } = {}): Promise<EvaluationRecord[]> {
    const rows = (
      filter.runId === undefined
        ? this.context.db.prepare(SELECT_EVALUATIONS).all()
        : this.context.db.prepare(SELECT_RUN_EVALUATIONS).all(filter.runId)
    ) as EvaluationRow[];
    return rows.map(evaluationRecord);
  }

  async items(id: number, options: { limit?: number; offset?: number } = {}): Promise<EvaluationItem[]> {
    requireId(id, 'evaluationId');
    if (!this.context.db.prepare('SELECT 1 FROM evaluations WHERE id = ?').get(id)) notFound('Evaluation', id);
    const limit = options.limit === undefined ? -1 : requireIntegerIn(options.limit, 'limit', 1, 10_000_000);
    const offset = options.offset === undefined ? 0 : requireIntegerIn(options.offset, 'offset', 0, Number.MAX_SAFE_INTEGER);
    const rows = this.context.db
      .prepare('SELECT * FROM evaluation_items WHERE evaluation_id = ? ORDER BY image_id LIMIT ? OFFSET ?')
      .all(id, limit, offset) as EvaluationItemRow[];
    return rows.map(evaluationItem);
  }

  async delete(id: number): Promise<void> {
    requireId(id, 'evaluationId');
    if (this.context.db.prepare('DELETE FROM evaluations WHERE id = ?').run(id).changes === 0) notFound('Evaluation', id);
  }
}
