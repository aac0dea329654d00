/**
 * Evaluations in PostgreSQL: aggregate scores with the decoding settings and
 * metric definitions that produced them, and every image's caption and scores.
 */
import { ApiError } from '../../../shared/errors';
import type { EvaluationItem, EvaluationRecord } from '../../../shared/storeTypes';
import { isoTime } from '../clock';
import { numberRecordJson, objectJson, parseNumberRecord, parseObject, parseStringArray } from '../json';
import type { EvaluationInput, EvaluationStore } from '../storage';
import { notFound, requireId, requireIntegerIn, requireText } from '../validate';
import type { PgContext } from './context';
import type { Sql } from './sql';

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

/** Items per INSERT: bounds the size of one statement for very large evaluations. */
const ITEMS_PER_STATEMENT = 2000;

export class PgEvaluationStore implements EvaluationStore {
  constructor(private readonly context: PgContext) {}

  private get sql() {
    return this.context.db.sql;
  }

  async create(input: EvaluationInput): Promise<EvaluationRecord> {
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
      return [item.imageId, item.imagePath ?? null, item.caption, JSON.stringify(item.references), numberRecordJson(item.scores, `items[${index}].scores`)] as const;
    });
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
        `INSERT INTO evaluations (run_id, checkpoint_id, dataset_id, split, decoding, metric_definitions, aggregate, image_count, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
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
    return row ? toRecord(row) : null;
  }

  async list(filter: { runId?: number } = {}): Promise<EvaluationRecord[]> {
    const rows =
      filter.runId === undefined
        ? await this.sql.all<EvaluationRow>('SELECT * FROM evaluations ORDER BY created_at DESC, id DESC')
        : await this.sql.all<EvaluationRow>('SELECT * FROM evaluations WHERE run_id = ? ORDER BY created_at DESC, id DESC', [filter.runId]);
    return rows.map(toRecord);
  }

  async items(id: number, options: { limit?: number; offset?: number } = {}): Promise<EvaluationItem[]> {
    requireId(id, 'evaluationId');
    if (!(await this.sql.one('SELECT 1 FROM evaluations WHERE id = ?', [id]))) notFound('Evaluation', id);
    const limit = options.limit === undefined ? null : requireIntegerIn(options.limit, 'limit', 1, 10_000_000);
    const offset = options.offset === undefined ? 0 : requireIntegerIn(options.offset, 'offset', 0, Number.MAX_SAFE_INTEGER);
    const rows = await this.sql.all<ItemRow>('SELECT * FROM evaluation_items WHERE evaluation_id = ? ORDER BY image_id COLLATE "C" LIMIT ? OFFSET ?', [
      id,
      limit,
      offset,
    ]);
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
    if ((await this.sql.run('DELETE FROM evaluations WHERE id = ?', [id])) === 0) notFound('Evaluation', id);
  }
}

async function insertItems(sql: Sql, evaluationId: number, items: ReadonlyArray<readonly [string, string | null, string, string, string]>): Promise<void> {
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
