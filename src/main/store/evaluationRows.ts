/**
 * Evaluations as both stores keep them: the row shapes, an input validated
 * into the values to insert, and rows turned into records. Each store runs
 * its own statements (PostgreSQL inserts the items in bulk).
 */
import { ApiError } from '../../shared/errors';
import type { EvaluationItem, EvaluationRecord } from '../../shared/storeTypes';
import { isoTime } from './clock';
import { numberRecordJson, objectJson, parseNumberRecord, parseObject, parseStringArray } from './json';
import type { EvaluationInput } from './storage';
import { requireText } from './validate';

export interface EvaluationRow {
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

export interface EvaluationItemRow {
  image_id: string;
  image_path: string | null;
  caption: string;
  reference_captions: string;
  scores: string;
}

/** One item's columns after evaluation_id: image_id, image_path, caption, reference_captions, scores. */
export type EvaluationItemValues = readonly [string, string | null, string, string, string];

export interface EvaluationValues {
  decoding: string;
  definitions: string;
  aggregate: string;
  items: EvaluationItemValues[];
}

/** Validates an evaluation before anything is written: JSON fields, one item per image. */
export function evaluationValues(input: EvaluationInput): EvaluationValues {
  requireText(input.split, 'split', 100);
  const decoding = objectJson(input.decoding, 'decoding');
  const definitions = objectJson(input.metricDefinitions, 'metricDefinitions');
  const aggregate = numberRecordJson(input.aggregate, 'aggregate');
  const seen = new Set<string>();
  const items = input.items.map((item, index): EvaluationItemValues => {
    requireText(item.imageId, `items[${index}].imageId`, 1000);
    if (seen.has(item.imageId)) {
      throw new ApiError('invalid_request', `items[${index}].imageId "${item.imageId}" appears twice; one item per image.`, [
        { path: `items.${index}.imageId`, message: 'duplicate image id' },
      ]);
    }
    seen.add(item.imageId);
    return [item.imageId, item.imagePath ?? null, item.caption, JSON.stringify(item.references), numberRecordJson(item.scores, `items[${index}].scores`)];
  });
  return { decoding, definitions, aggregate, items };
}

export function evaluationRecord(row: EvaluationRow): EvaluationRecord {
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

export function evaluationItem(row: EvaluationItemRow): EvaluationItem {
  return {
    imageId: row.image_id,
    imagePath: row.image_path,
    caption: row.caption,
    references: parseStringArray(row.reference_captions),
    scores: parseNumberRecord(row.scores),
  };
}

export const INSERT_EVALUATION = `INSERT INTO evaluations (run_id, checkpoint_id, dataset_id, split, decoding, metric_definitions, aggregate, image_count, created_at)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`;

export const SELECT_EVALUATIONS = 'SELECT * FROM evaluations ORDER BY created_at DESC, id DESC';
export const SELECT_RUN_EVALUATIONS = 'SELECT * FROM evaluations WHERE run_id = ? ORDER BY created_at DESC, id DESC';
