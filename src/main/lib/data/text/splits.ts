/**
 * Train/val/test splits by image. When a dataset brings its own splits they
 * are used as they are; otherwise images are shuffled with a seeded PRNG and
 * cut by fraction. Splitting by image (never by caption) keeps all captions
 * of an image in one split, so nothing the model is tested on leaks from
 * training.
 */
import { createRng } from '../random';
import { SPLIT_NAMES, type CaptionDataset, type DatasetImage, type SplitName } from '../readers/types';

export interface SplitFractions {
  train: number;
  val: number;
  test: number;
}

export const DEFAULT_SPLIT_FRACTIONS: SplitFractions = { train: 0.8, val: 0.1, test: 0.1 };

export type Splits = Record<SplitName, DatasetImage[]>;

export interface SplitOptions {
  seed: number;
  fractions?: SplitFractions;
}

export interface ResolvedSplits {
  splits: Splits;
  /** `dataset` when the source assigned the splits, `seeded` when they were drawn here. */
  source: 'dataset' | 'seeded';
  /** Images left out because the dataset's own splits do not mention them. */
  unassigned: number;
}

/** The dataset's own splits if it has them, else a seeded split by image. */
export function resolveSplits(dataset: Pick<CaptionDataset, 'images' | 'hasSplits'>, options: SplitOptions): ResolvedSplits {
  if (dataset.hasSplits) {
    const splits: Splits = { train: [], val: [], test: [] };
    let unassigned = 0;
    for (const image of dataset.images) {
      if (image.split) splits[image.split].push(image);
      else unassigned += 1;
    }
    return { splits, source: 'dataset', unassigned };
  }
  return { splits: seededSplit(dataset.images, options), source: 'seeded', unassigned: 0 };
}

/**
 * Shuffles the images (ordered by id first, so the input order does not
 * matter) and cuts them by fraction: val and test are rounded, train takes
 * the rest. Each split with a non-zero fraction gets at least one image when
 * there are enough images.
 */
export function seededSplit(images: readonly DatasetImage[], options: SplitOptions): Splits {
  const fractions = options.fractions ?? DEFAULT_SPLIT_FRACTIONS;
  const total = fractions.train + fractions.val + fractions.test;
  if (!(total > 0) || Object.values(fractions).some((f) => f < 0 || !Number.isFinite(f))) {
    throw new RangeError(`Split fractions must be ≥ 0 and not all 0 (got ${JSON.stringify(fractions)}).`);
  }
  const ordered = [...images].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const shuffled = createRng(options.seed).fork('split').shuffle(ordered);
  const n = shuffled.length;
  const atLeastOne = (fraction: number) => (fraction > 0 && n >= 3 ? Math.max(1, Math.round((n * fraction) / total)) : Math.round((n * fraction) / total));
  const nVal = atLeastOne(fractions.val);
  const nTest = Math.min(n - nVal, atLeastOne(fractions.test));
  return {
    val: shuffled.slice(0, nVal),
    test: shuffled.slice(nVal, nVal + nTest),
    train: shuffled.slice(nVal + nTest),
  };
}

/**
 * Every way an image could appear in two splits: the same id, or the same
 * file under two ids. Returns one message per leak; empty means clean.
 */
export function findSplitLeaks(splits: Splits): string[] {
  const leaks: string[] = [];
  const byId = new Map<string, SplitName>();
  const byFile = new Map<string, SplitName>();
  for (const split of SPLIT_NAMES) {
    for (const image of splits[split]) {
      const idSplit = byId.get(image.id);
      if (idSplit && idSplit !== split) leaks.push(`Image ${image.id} is in both ${idSplit} and ${split}.`);
      byId.set(image.id, split);
      const fileSplit = byFile.get(image.file);
      if (fileSplit && fileSplit !== split) leaks.push(`File ${image.file} is in both ${fileSplit} and ${split}.`);
      byFile.set(image.file, split);
    }
  }
  return leaks;
}
