/**
 * Facts about a read dataset that the store keeps (its `stats` column) and
 * that the UI lists: where its images are, whether it is a Shapes set, its
 * counts and problems. Computed where the dataset is read (the dataset
 * process), so the main process never holds a parsed dataset.
 */
import { existsSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { SplitName } from '../../../shared/datasetsTypes';
import type { CaptionDataset } from './readers/types';
import type { BadImage } from './readers/verifyImages';
import { SHAPES_SCENES_FILE } from './shapes/synth';

export interface StoredDatasetStats {
  imageRoot: string;
  imagesDir: string | null;
  kind: 'captions' | 'shapes';
  images: number;
  captions: number;
  splits: Record<SplitName, number> | null;
  /** Problems found while reading, plus unreadable images once verified. */
  problems: number;
  /** Set by the verification task that follows an import. */
  verified?: { checked: number; unreadable: number; at: string } | null;
  /** Images that did not decode, with their reasons (at most MAX_STORED_UNREADABLE). */
  unreadable?: BadImage[];
}

/** Unreadable images kept with a dataset's record; the count is always exact. */
export const MAX_STORED_UNREADABLE = 10_000;

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

export function defaultName(path: string, dataset: CaptionDataset): string {
  const base = basename(path);
  return dataset.format === 'folder' || !/\.(json|txt|csv|tsv|jsonl|token)$/i.test(base) ? base : basename(dirname(path)) || base;
}
