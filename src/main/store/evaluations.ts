/**
 * Evaluations in SQLite: aggregate scores with the decoding settings and
 * metric definitions that produced them, and every image's caption and scores.
 */
import { ApiError } from '../../shared/errors';
import type { EvaluationItem, EvaluationRecord } from '../../shared/storeTypes';
import { isoTime } from './clock';
import type { SqliteContext } from './context';
import { numberRecordJson, objectJson, parseNumberRecord, parseObject, parseStringArray } from './json';
import type { EvaluationInput, EvaluationStore } from './storage';
import { notFound, requireId, requireIntegerIn, requireText } from './validate';

interface EvaluationRow {
  id: number;
  run_id: number | null;
  checkpoint_id: number | null;
  dataset_id: number | null;
  split: string;
  decoding: string;
  metric_definitions: string;
  aggregate: string;
  image_count: number;
  created_at: number;
}

interface ItemRow {
  image_id: string;
  image_path: string | null;
  caption: string;
  reference_captions: string;
  scores: string;
}

function toRecord(row: EvaluationRow): EvaluationRecord {
  return {
    id: row.id,
    runId: row.run_id,
    checkpointId: row.checkpoint_id,
    datasetId: row.dataset_id,
    split: row.split,
    decoding: parseObject(row.decoding),
    metricDefinitions: parseObject(row.metric_definitions),
    aggregate: parseNumberRecord(row.aggregate),
    imageCount: row.image_count,
    createdAt: isoTime(row.created_at),
  };
}

export class SqliteEvaluationStore implements EvaluationStore {
  constructor(private readonly context: SqliteContext) {}

  async create(input: EvaluationInput): Promise<EvaluationRecord> {
    const { db } = this.context;
    requireText(input.split, 'split', 100);
    const decoding = objectJson(input.decoding, 'decoding');
    const definitions = objectJson(input.metricDefinitions, 'metricDefinitions');
    const aggregate = numberRecordJson(input.aggregate, 'aggregate');
    const seen = new Set<string>();
    const items = input.items.map((item, index) => {
      requireText(item.imageId, `items[${index}].imageId`, 1000);
      if (seen.has(item.imageId)) {
        throw new ApiError('invalid_request', `items[${index}].imageId "${item.imageId}" appears twice; one item per image.`, [
          { path: `items.${index}.imageId`, message: 'duplicate image id' },
        ]);
      }
      seen.add(item.imageId);
      return [
        item.imageId,
        item.imagePath ?? null,
        item.caption,
        JSON.stringify(item.references),
        numberRecordJson(item.scores, `items[${index}].scores`),
      ] as const;
    });
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
        .prepare(
          `INSERT INTO evaluations (run_id, checkpoint_id, dataset_id, split, decoding, metric_definitions, aggregate,
                                    image_count, created_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
        )
        .pluck()
        .get(runId, checkpointId, datasetId, input.split, decoding, definitions, aggregate, items.length, this.context.clock()) as number;
      for (const item of items) insertItem.run(id, ...item);
      return id;
    })();
    return (await this.get(id)) as EvaluationRecord;
  }

  async get(id: number): Promise<EvaluationRecord | null> {
    const row = this.context.db.prepare('SELECT * FROM evaluations WHERE id = ?').get(id) as EvaluationRow | undefined;
    return row ? toRecord(row) : null;
  }

  async list(filter: { runId?: number } = {}): Promise<EvaluationRecord[]> {
    const rows = (
      filter.runId === undefined
        ? this.context.db.prepare('SELECT * FROM evaluations ORDER BY created_at DESC, id DESC').all()
        : this.context.db.prepare('SELECT * FROM evaluations WHERE run_id = ? ORDER BY created_at DESC, id DESC').all(filter.runId)
    ) as EvaluationRow[];
    return rows.map(toRecord);
  }

  async items(id: number, options: { limit?: number; offset?: number } = {}): Promise<EvaluationItem[]> {
    requireId(id, 'evaluationId');
    if (!this.context.db.prepare('SELECT 1 FROM evaluations WHERE id = ?').get(id)) notFound('Evaluation', id);
    const limit = options.limit === undefined ? -1 : requireIntegerIn(options.limit, 'limit', 1, 10_000_000);
    const offset = options.offset === undefined ? 0 : requireIntegerIn(options.offset, 'offset', 0, Number.MAX_SAFE_INTEGER);
    const rows = this.context.db
      .prepare('SELECT * FROM evaluation_items WHERE evaluation_id = ? ORDER BY image_id LIMIT ? OFFSET ?')
      .all(id, limit, offset) as ItemRow[];
    return rows.map((row) => ({
      imageId: row.image_id,
      imagePath: row.image_path,
      caption: row.caption,
      references: parseStringArray(row.reference_captions),
      scores: parseNumberRecord(row.scores),
    }));
  }

  async delete(id: number): Promise<void> {
    requireId(id, 'evaluationId');
    if (this.context.db.prepare('DELETE FROM evaluations WHERE id = ?').run(id).changes === 0) notFound('Evaluation', id);
  }
}
