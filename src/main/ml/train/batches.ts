/**
 * Batches of captions for teacher forcing. Each epoch visits every training
 * caption once in an order drawn from (seed, epoch); a batch is padded only
 * to its own longest caption, so short captions cost short steps.
 */
import * as tf from '@tensorflow/tfjs';
import type { CaptionBatch } from '../model/decoder';
import { deriveSeed, Rng } from '../model/rng';
import type { CaptionItem } from './data';

/** The caption order of one epoch: a permutation fixed by (seed, epoch). */
export function epochOrder(seed: number, epoch: number, count: number): number[] {
  return new Rng(deriveSeed(seed, 'shuffle', epoch)).shuffled(Array.from({ length: count }, (_, i) => i));
}

/**
 * The batches of one epoch (caption indices), each caption once.
 *
 * With `perImage` = k = 1, consecutive slices of `epochOrder`. With k > 1
 * (`training.captionsPerImage`, neuraltalk2's seq_per_img), rows share
 * images: each image's captions, in an order drawn from (seed, epoch), are
 * cut into runs of k; a batch holds floor(B / k) full runs, so B / k distinct
 * images whose encoder passes serve k rows each. The shorter last runs of
 * images whose caption count k does not divide go to batches of their own,
 * filled up to B rows. Batches of one kind have the same number of distinct
 * images, which keeps the step's shapes (and so its TensorFlow graphs) few;
 * the batches are shuffled so both kinds spread over the epoch. How many
 * batches there are depends only on the caption counts, not on the draw.
 */
export function epochBatches(seed: number, epoch: number, imageOfCaption: readonly number[], batchSize: number, perImage = 1): number[][] {
  if (perImage <= 1) {
    const order = epochOrder(seed, epoch, imageOfCaption.length);
    return Array.from({ length: stepsPerEpoch(order.length, batchSize) }, (_, step) => order.slice(step * batchSize, (step + 1) * batchSize));
  }
  const rng = new Rng(deriveSeed(seed, 'shuffle', epoch));
  const full: number[][] = [];
  const rest: number[][] = [];
  for (const captions of captionsByImage(imageOfCaption)) {
    const shuffled = rng.shuffled(captions);
    for (let first = 0; first < shuffled.length; first += perImage) {
      const run = shuffled.slice(first, first + perImage);
      (run.length === perImage ? full : rest).push(run);
    }
  }
  const runsPerBatch = Math.max(1, Math.floor(batchSize / perImage));
  const batches: number[][] = [];
  const fullRuns = rng.shuffled(full);
  for (let first = 0; first < fullRuns.length; first += runsPerBatch) batches.push(fullRuns.slice(first, first + runsPerBatch).flat());
  // Longest runs first, so how many batches they fill does not depend on the draw.
  let batch: number[] = [];
  for (const run of rng.shuffled(rest).sort((a, b) => b.length - a.length)) {
    if (batch.length + run.length > batchSize) {
      batches.push(batch);
      batch = [];
    }
    batch.push(...run);
  }
  if (batch.length > 0) batches.push(batch);
  return rng.shuffled(batches);
}

/** Caption indices grouped by image, images in order of first appearance. */
function captionsByImage(imageOfCaption: readonly number[]): number[][] {
  const byImage = new Map<number, number[]>();
  imageOfCaption.forEach((image, caption) => {
    const captions = byImage.get(image);
    if (captions) captions.push(caption);
    else byImage.set(image, [caption]);
  });
  return [...byImage.values()];
}

export function stepsPerEpoch(captions: number, batchSize: number): number {
  return Math.ceil(captions / batchSize);
}

export interface HostBatch {
  /** Image index of each row. */
  images: number[];
  rows: number;
  steps: number;
  inputs: Int32Array;
  targets: Int32Array;
  mask: Float32Array;
  /** Real target words (the <end> included). */
  tokens: number;
  /** Real steps of each row. */
  lengths: number[];
  /** Rows whose image is mirrored left to right (and caption side words swapped): see augmentation.ts. */
  flips?: boolean[];
  /** Rows whose image is flipped top to bottom (and "above" and "below" swapped). */
  verticalFlips?: boolean[];
  /**
   * Set when rows share images (`hostBatch(items, { shareImages: true })`):
   * the batch's distinct images in order of first use, and for each row the
   * index of its image among them. The encoder then runs once per distinct
   * image (with that image's flips, `flips` and `verticalFlips` here) and
   * its features are gathered into rows.
   */
  distinct?: { images: number[]; rowOf: number[]; flips?: boolean[]; verticalFlips?: boolean[] };
}

/**
 * Rows <start> w… as inputs, w… <end> as targets, padded with 0 to the
 * longest caption of the batch, or to what `padTo` makes of that length
 * (batches by length pad to a few lengths, so their step shapes are few).
 */
export function hostBatch(
  items: readonly CaptionItem[],
  { shareImages = false, padTo = (longest) => longest }: { shareImages?: boolean; padTo?: (longest: number) => number } = {},
): HostBatch {
  const longest = Math.max(...items.map((item) => item.tokens.length - 1));
  const steps = Math.max(longest, padTo(longest));
  const rows = items.length;
  const inputs = new Int32Array(rows * steps);
  const targets = new Int32Array(rows * steps);
  const mask = new Float32Array(rows * steps);
  let tokens = 0;
  const lengths: number[] = [];
  items.forEach((item, row) => {
    const length = item.tokens.length - 1;
    for (let t = 0; t < length; t++) {
      inputs[row * steps + t] = item.tokens[t]!;
      targets[row * steps + t] = item.tokens[t + 1]!;
      mask[row * steps + t] = 1;
    }
    tokens += length;
    lengths.push(length);
  });
  const images = items.map((item) => item.image);
  return { images, rows, steps, inputs, targets, mask, tokens, lengths, ...(shareImages ? { distinct: distinctImages(images) } : {}) };
}

/** The distinct images of a batch in order of first use, and each row's index among them. */
export function distinctImages(images: readonly number[]): { images: number[]; rowOf: number[] } {
  const indexOf = new Map<number, number>();
  const rowOf = images.map((image) => {
    let index = indexOf.get(image);
    if (index === undefined) indexOf.set(image, (index = indexOf.size));
    return index;
  });
  return { images: [...indexOf.keys()], rowOf };
}

/**
 * The batch as tensors. `lengths` (default true) hands the decoder each
 * row's real steps, so it can skip masking the steps where no row is padded;
 * a step that runs as a graph leaves them out, since which steps those are
 * changes from batch to batch and would change the graph (masking a real
 * step by 1 gives the same numbers).
 */
export function toTensors(batch: HostBatch, { lengths = true }: { lengths?: boolean } = {}): CaptionBatch {
  const tensors: CaptionBatch = {
    inputs: tf.tensor2d(batch.inputs, [batch.rows, batch.steps], 'int32'),
    targets: tf.tensor2d(batch.targets, [batch.rows, batch.steps], 'int32'),
    mask: tf.tensor2d(batch.mask, [batch.rows, batch.steps], 'float32'),
  };
  if (lengths) tensors.lengths = batch.lengths;
  return tensors;
}
