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
