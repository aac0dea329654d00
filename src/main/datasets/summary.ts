/**
 * What the store keeps about an imported dataset (its `stats` column) and
 * how a stored record becomes the `DatasetSummary` the UI lists.
 */
import { existsSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { DATASET_FORMATS, type DatasetFormat, type DatasetSummary, type SplitName } from '../../shared/datasetsTypes';
import type { DatasetRecord, JsonObject } from '../../shared/storeTypes';
import type { CaptionDataset } from '../lib/data/readers/types';
import { SHAPES_SCENES_FILE } from '../lib/data/shapes/synth';

export interface StoredDatasetStats {
  imageRoot: string;
  imagesDir: string | null;
  kind: 'captions' | 'shapes';
  images: number;
  captions: number;
  splits: Record<SplitName, number> | null;
  problems: number;
}

/** The Shapes ground truth that belongs to a dataset: `scenes.json` beside its annotations. */
export function scenesFileFor(dataset: Pick<CaptionDataset, 'source'>): string | null {
  for (const dir of [dataset.source, dirname(dataset.source)]) {
    const file = join(dir, SHAPES_SCENES_FILE);
    if (existsSync(file)) return file;
  }
  return null;
}

export function storedStats(dataset: CaptionDataset, imagesDir: string | null): StoredDatasetStats {
  const splits = dataset.hasSplits ? { train: 0, val: 0, test: 0 } : null;
  if (splits) for (const image of dataset.images) if (image.split) splits[image.split] += 1;
  return {
    imageRoot: dataset.imageRoot,
    imagesDir,
    kind: scenesFileFor(dataset) ? 'shapes' : 'captions',
    images: dataset.images.length,
    captions: dataset.images.reduce((sum, image) => sum + image.captions.length, 0),
    splits,
    problems: Object.values(dataset.problems.counts).reduce((a, b) => a + (b ?? 0), 0),
  };
}

export function asJson(stats: StoredDatasetStats): JsonObject {
  return stats as unknown as JsonObject;
}

/** Reads the stored stats back, tolerating records registered by older versions. */
export function readStoredStats(record: DatasetRecord): StoredDatasetStats {
  const s = record.stats as Partial<StoredDatasetStats>;
  return {
    imageRoot: typeof s.imageRoot === 'string' ? s.imageRoot : record.path,
    imagesDir: typeof s.imagesDir === 'string' ? s.imagesDir : null,
    kind: s.kind === 'shapes' ? 'shapes' : 'captions',
    images: typeof s.images === 'number' ? s.images : 0,
    captions: typeof s.captions === 'number' ? s.captions : 0,
    splits: s.splits ?? null,
    problems: typeof s.problems === 'number' ? s.problems : 0,
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
    createdAt: record.createdAt,
    updatedAt: record.updatedAt,
  };
}

export function defaultName(path: string, dataset: CaptionDataset): string {
  const base = basename(path);
  return dataset.format === 'folder' || !/\.(json|txt|csv|tsv|jsonl|token)$/i.test(base) ? base : basename(dirname(path)) || base;
}
