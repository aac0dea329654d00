/** Keeping and releasing decoder states across steps without leaking tensors. */
import * as tf from '@tensorflow/tfjs';
import type { StepDecoder } from './types';

/**
 * Runs `body` in a tidy and keeps the tensors `keep` names from its result;
 * everything else made inside is released.
 */
export function tidyKeep<T>(body: () => T, keep: (result: T) => tf.Tensor[]): T {
  let result: T | undefined;
  tf.tidy(() => {
    result = body();
    for (const tensor of keep(result)) tf.keep(tensor);
  });
  return result as T;
}

/** Disposes the tensors of `old` that `next` does not reuse. */
export function releaseState<S>(model: StepDecoder<S>, old: S, next: S | null): void {
  const kept = new Set(next ? model.stateTensors(next) : []);
  for (const tensor of model.stateTensors(old)) if (!kept.has(tensor) && !tensor.isDisposed) tensor.dispose();
}

/** Rows of the feature tensors: one per image. */
export function rowsOf(features: { pooled?: tf.Tensor2D; grid?: tf.Tensor3D }): number {
  const rows = features.pooled?.shape[0] ?? features.grid?.shape[0];
  if (rows === undefined) throw new Error('Decoding needs image features.');
  return rows;
}

/**
 * Native TensorFlow computes exp, log and sigmoid in SIMD packets of 8 (16
 * with AVX-512) floats, and the last elements of a tensor that do not fill
 * a packet one at a time, which can differ in the last bit. A row's values
 * are therefore the same in any batch only where no row falls in that
 * remainder: when the batch has a multiple of 16 rows.
 */
export const ROW_ALIGNMENT = 16;

/**
 * How decoding may rearrange a batch of `rows` rows (beam search: one row
 * per image at the first step, finished images dropped; greedy: finished
 * captions dropped): the packet its batches are padded to, or null to keep
 * every row in place.
 * - A model whose rows are the same to the bit in any batch
 *   (`rowIndependentSteps`): packets of `ROW_ALIGNMENT` rows, and only when
 *   the plain layout fills whole packets, so the results are the plain
 *   layout's bit for bit.
 * - A model whose rows already depend on their batch in the last bits
 *   (`batchDependentSteps`), for a decoding whose steps gain from fewer rows
 *   (`unpadded`: beam search; greedy's light steps did not, see
 *   infer/sequential.ts): any number of rows. Its results are then those of
 *   the same images decoded in a smaller batch.
 */
export function rowPacket(
  model: Pick<StepDecoder<unknown>, 'rowIndependentSteps' | 'batchDependentSteps'>,
  rows: number,
  { unpadded }: { unpadded: boolean },
): number | null {
  if (model.rowIndependentSteps === true) return rows % ROW_ALIGNMENT === 0 ? ROW_ALIGNMENT : null;
  return unpadded && model.batchDependentSteps === true ? 1 : null;
}

/** The fewest slots, at least `needed`, whose rows (`rowsPerSlot` each) fill whole packets of `packet` rows. */
export function alignedSlots(needed: number, rowsPerSlot: number, packet: number): number {
  const step = packet / gcd(rowsPerSlot, packet);
  return Math.ceil(needed / step) * step;
}

function gcd(a: number, b: number): number {
  return b === 0 ? a : gcd(b, a % b);
}
