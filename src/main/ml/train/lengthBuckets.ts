/**
 * Batches of captions of about one length (`training.batchByLength`).
 *
 * A step runs the decoder's recurrence once per word of the batch's longest
 * caption, so a batch drawn at random pays for the longest of its 32
 * captions (on Shapes 18.7 steps a batch where the mean caption has 10.5).
 * Batches of one length pay for their own. But every distinct batch length
 * is another step shape, and each shape is another TensorFlow graph (a run
 * keeps eight, ml/graph/graphSteps.ts); so captions are padded to one of a
 * few lengths, chosen from the training captions to waste the fewest steps.
 *
 * A step's loss is the mean over its batch's words, so a batch of short
 * captions would move the weights as far as one of long captions with half
 * the words, and every word of a short caption would count twice: the model
 * learns to say less (on Shapes, 9.4 words a caption against 12.6, object
 * recall 0.50 against 0.83). So the trainer scales each step's learning
 * rate by its words over the mean words of a batch: a step moves the weights
 * in proportion to the words it learns from, as steps over random batches,
 * which all hold about the mean, do. (The rate is fed to every step, so this
 * changes no graph.)
 */
import { deriveSeed, Rng } from '../model/rng';
import { epochOrder } from './batches';

/** Padded lengths a run uses: with the epoch's last, shorter batch, this many shapes stay under the graphs a run keeps. */
export const LENGTH_BUCKETS = 6;

/**
 * The padded lengths (ascending, the longest caption's last) that minimise
 * the steps run over all captions when each caption is padded to the
 * smallest of them that holds it: exact, by dynamic programming over the
 * distinct lengths.
 */
export function paddedLengths(lengths: readonly number[], buckets = LENGTH_BUCKETS): number[] {
  const counts = new Map<number, number>();
  for (const length of lengths) counts.set(length, (counts.get(length) ?? 0) + 1);
  const distinct = [...counts.keys()].sort((a, b) => a - b);
  const n = distinct.length;
  if (n <= buckets) return distinct;
  // below[i]: captions with a length among distinct[0..i-1].
  const below = [0];
  for (const length of distinct) below.push(below.at(-1)! + counts.get(length)!);
  // cost[b][i]: the fewest steps for the captions of distinct[0..i-1] with b padded lengths, the last being distinct[i-1].
  const cost = Array.from({ length: buckets + 1 }, () => new Array<number>(n + 1).fill(Infinity));
  const from = Array.from({ length: buckets + 1 }, () => new Array<number>(n + 1).fill(0));
  cost[0]![0] = 0;
  for (let b = 1; b <= buckets; b++) {
    for (let i = 1; i <= n; i++) {
      for (let j = 0; j < i; j++) {
        const steps = cost[b - 1]![j]! + (below[i]! - below[j]!) * distinct[i - 1]!;
        if (steps < cost[b]![i]!) {
          cost[b]![i] = steps;
          from[b]![i] = j;
        }
      }
    }
  }
  const chosen: number[] = [];
  for (let b = buckets, i = n; b > 0 && i > 0; i = from[b]![i]!, b--) chosen.push(distinct[i - 1]!);
  return chosen.reverse();
}

/** The smallest padded length that holds `length` (the longest when none does: a caption longer than the training's). */
export function paddedLength(padded: readonly number[], length: number): number {
  return padded.find((candidate) => candidate >= length) ?? Math.max(length, padded.at(-1) ?? length);
}

/**
 * The batches of one epoch (caption indices), each caption once, each
 * batch of captions padded to one length where the counts allow: the
 * epoch's order drawn from (seed, epoch) is sorted by padded length (ties
 * keep the drawn order), cut into batches, and the batches shuffled. Only a
 * batch at the border of two lengths mixes them. As many batches as random
 * ones, whatever the draw.
 */
export function batchesByLength(seed: number, epoch: number, lengths: readonly number[], batchSize: number, padded: readonly number[]): number[][] {
  const order = epochOrder(seed, epoch, lengths.length);
  const rank = new Map(padded.map((length, index) => [length, index]));
  const bucketOf = (caption: number) => rank.get(paddedLength(padded, lengths[caption]!)) ?? padded.length;
  const sorted = order
    .map((caption, drawn) => ({ caption, drawn, bucket: bucketOf(caption) }))
    .sort((a, b) => a.bucket - b.bucket || a.drawn - b.drawn)
    .map(({ caption }) => caption);
  const batches = Array.from({ length: Math.ceil(sorted.length / batchSize) }, (_, index) => sorted.slice(index * batchSize, (index + 1) * batchSize));
  return new Rng(deriveSeed(seed, 'length-batches', epoch)).shuffled(batches);
}

/** The words (target steps) a batch holds on average over an epoch of `batches` batches. */
export function meanBatchWords(stepsOfCaption: readonly number[], batches: number): number {
  return stepsOfCaption.reduce((sum, steps) => sum + steps, 0) / batches;
}

/** What a step's learning rate is multiplied by when its batch holds `words` target words (see above). */
export function wordWeight(words: number, meanWords: number): number {
  return words / meanWords;
}
