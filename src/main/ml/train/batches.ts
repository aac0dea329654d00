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
  /** Rows whose image is mirrored (and caption side words swapped): see augmentation.ts. */
  flips?: boolean[];
}

/** Rows <start> w… as inputs, w… <end> as targets, padded with 0 to the longest caption of the batch. */
export function hostBatch(items: readonly CaptionItem[]): HostBatch {
  const steps = Math.max(...items.map((item) => item.tokens.length - 1));
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
  return { images: items.map((item) => item.image), rows, steps, inputs, targets, mask, tokens, lengths };
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
