/**
 * What the store keeps about an imported dataset (its `stats` column) and
 * how a stored record becomes the `DatasetSummary` the UI lists.
 */
import { DATASET_FORMATS, type DatasetFormat, type DatasetSummary } from '../../shared/datasetsTypes';
import type { DatasetRecord, JsonObject } from '../../shared/storeTypes';
import { type StoredDatasetStats } from '../lib/data/facts';

export { defaultName, scenesFileFor, storedStats, type StoredDatasetStats } from '../lib/data/facts';

export function asJson(stats: StoredDatasetStats): JsonObject {
  return stats as unknown as JsonObject;
}

/** Reads the stored stats back, tolerating records registered by older versions. */
export function readStoredStats(record: DatasetRecord): Required<StoredDatasetStats> {
  const s = record.stats as Partial<StoredDatasetStats>;
  return {
    imageRoot: typeof s.imageRoot === 'string' ? s.imageRoot : record.path,
    imagesDir: typeof s.imagesDir === 'string' ? s.imagesDir : null,
    kind: s.kind === 'shapes' ? 'shapes' : 'captions',
    images: typeof s.images === 'number' ? s.images : 0,
    captions: typeof s.captions === 'number' ? s.captions : 0,
    splits: s.splits ?? null,
    problems: typeof s.problems === 'number' ? s.problems : 0,
    verified: s.verified ?? null,
    unreadable: Array.isArray(s.unreadable) ? s.unreadable : [],
  };
}

export function isDatasetFormat(value: string): value is DatasetFormat {
  return (DATASET_FORMATS as readonly string[]).includes(value);
}

export function toSummary(record: DatasetRecord): DatasetSummary {
  const stats = readStoredStats(record);
  return {
    id: record.id,
    name: record.name,
    path: record.path,
    format: isDatasetFormat(record.format) ? record.format : 'folder',
    imageRoot: stats.imageRoot,
    kind: stats.kind,
    images: stats.images,
    captions: stats.captions,
    splits: stats.splits,
    problems: stats.problems,
    verified: stats.verified,
    createdAt: record.createdAt,
    updatedAt: record.updatedAt,
  };
}

