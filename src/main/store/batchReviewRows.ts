/**
 * Batch review rows as both stores keep them: a job's settings and each
 * image's outcome, and the records they become. Each store runs its own
 * statements (PostgreSQL orders paths by code point and writes in bulk).
 */
import type { BatchItem, BatchItemOutcome, BatchJobOptions, BatchOutputPaths } from '../../shared/batchTypes';
import type { DecodingSettings } from '../../shared/inferenceTypes';
import type { BatchSettings } from './batchReview';
import { parseObject } from './json';

export interface SettingsRow {
  options: string;
  model_label: string;
  decoding: string | null;
  ignored: number;
  excluded: number;
  total: number | null;
  outputs: string;
}

export interface ItemRow {
  image_path: string;
  ordinal: number | null;
  relative_path: string | null;
  outcome: BatchItemOutcome;
  caption: string | null;
  edited_caption: string | null;
  confidence: number | null;
  score: number | null;
  error: string | null;
  sidecar: 'none' | 'pending' | 'written';
  sidecar_caption: string | null;
}

const EMPTY_OUTPUTS: BatchOutputPaths = { sidecars: 0, csv: null, jsonl: null, coco: null };

export function batchItem(row: ItemRow): BatchItem {
  return {
    path: row.image_path,
    relativePath: row.relative_path ?? row.image_path,
    outcome: row.outcome,
    caption: row.caption,
    editedCaption: row.edited_caption,
    confidence: row.confidence,
    logProb: row.score,
    error: row.error,
  };
}

/** A score to store: a non-finite one is stored as null. */
export const finiteOrNull = (value: number | null): number | null => (value !== null && Number.isFinite(value) ? value : null);

export function batchSettings(row: SettingsRow): BatchSettings {
  return {
    options: parseObject(row.options) as unknown as BatchJobOptions,
    modelLabel: row.model_label,
    decoding: row.decoding ? (parseObject(row.decoding) as unknown as DecodingSettings) : null,
    ignored: row.ignored,
    excluded: row.excluded,
    total: row.total,
    outputs: { ...EMPTY_OUTPUTS, ...(parseObject(row.outputs) as Partial<BatchOutputPaths>) },
  };
}
