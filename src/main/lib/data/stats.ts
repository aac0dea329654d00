/**
 * What `captioner dataset stats` reports about a read dataset: counts per
 * split, caption lengths in words (after the training tokenizer), the
 * vocabulary at a minimum count and how much of the text it covers, the
 * most frequent words and the problems found while reading.
 */
import type { DatasetStats, SplitCount } from '../../../shared/datasetsTypes';
import { SPLIT_NAMES, type CaptionDataset } from './readers/types';
import { tokenizeCaption } from './text/tokenize';
import { mapYielding } from './yielding';
import { byCountThenWord, countWords, SPECIAL_TOKENS } from './text/vocabulary';

export interface StatsOptions {
  minCount: number;
  topWords: number;
  /** Whether a Shapes scenes.json was found beside the annotations. */
  shapes?: boolean;
}

export async function computeStats(dataset: CaptionDataset, options: StatsOptions): Promise<DatasetStats> {
  const tokenized = await mapYielding(dataset.images, (image) => image.captions.map(tokenizeCaption), 500);
  const lengths = tokenized.flat().map((tokens) => tokens.length);
  const counts = countWords(tokenized.flat());
  const total = [...counts.values()].reduce((a, b) => a + b, 0);
  const kept = [...counts].filter(([, count]) => count >= options.minCount);
  const covered = kept.reduce((sum, [, count]) => sum + count, 0);

  const splits = Object.fromEntries([...SPLIT_NAMES, 'unassigned'].map((name) => [name, { images: 0, captions: 0 }])) as DatasetStats['splits'];
  for (const image of dataset.images) {
    const bucket = splits[image.split ?? 'unassigned'] as SplitCount;
    bucket.images += 1;
    bucket.captions += image.captions.length;
  }

  const perImage = dataset.images.map((image) => image.captions.length);
  const sorted = [...lengths].sort((a, b) => a - b);
  const histogram = new Map<number, number>();
  for (const length of lengths) histogram.set(length, (histogram.get(length) ?? 0) + 1);
  const quantile = (q: number) => (sorted.length ? (sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] as number) : 0);
  const mean = (values: number[]) => (values.length ? values.reduce((a, b) => a + b, 0) / values.length : 0);

  return {
    format: dataset.format,
    source: dataset.source,
    imageRoot: dataset.imageRoot,
    images: dataset.images.length,
    captions: lengths.length,
    splitSource: dataset.hasSplits ? 'dataset' : 'none',
    splits,
    captionsPerImage: { min: perImage.length ? Math.min(...perImage) : 0, max: perImage.length ? Math.max(...perImage) : 0, mean: round(mean(perImage)) },
    captionLength: {
      min: sorted[0] ?? 0,
      max: sorted[sorted.length - 1] ?? 0,
      mean: round(mean(lengths)),
      median: quantile(0.5),
      p95: quantile(0.95),
      histogram: [...histogram].sort((a, b) => a[0] - b[0]).map(([length, count]) => ({ length, count })),
    },
    vocabulary: {
      minCount: options.minCount,
      distinctWords: counts.size,
      size: kept.length + SPECIAL_TOKENS.length,
      coverage: total ? round(covered / total, 4) : 0,
    },
    topWords: [...counts].sort(byCountThenWord).slice(0, options.topWords).map(([word, count]) => ({ word, count })),
    problems: dataset.problems,
    shapes: options.shapes ?? false,
  };
}

function round(value: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}
