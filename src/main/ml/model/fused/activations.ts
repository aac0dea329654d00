/**
 * Dropout on native TensorFlow: the keep mask comes from
 * `StatelessRandomUniform`, a pure function of (shape, seed) computed by
 * TensorFlow (multi-threaded), where tfjs draws seeded numbers one by one in
 * JavaScript and uploads them. It is as reproducible (same seed, same mask,
 * across calls and processes) but gives other masks than the JS backends for
 * the same seed.
 */
import * as tf from '@tensorflow/tfjs';
import { attr, runOp } from './nativeOps';

/** Uniform numbers in [0, 1) of `shape`, a pure function of (shape, seed). */
function statelessUniform(shape: readonly number[], seed: number): tf.Tensor {
  return tf.tidy(() => {
    const shapeTensor = tf.tensor1d([...shape], 'int32');
    const seeds = tf.tensor1d([seed | 0, 0], 'int32');
    return runOp('StatelessRandomUniform', [attr.float32Type('dtype'), attr.int32Type('T'), attr.int32Type('Tseed')], [shapeTensor, seeds], 1)[0]!;
  });
}

/** The keep mask from uniform numbers: floor(keep + u) is 1 with probability `keep`, scaled by 1 / keep. */
function keepMask(uniform: tf.Tensor, rate: number): tf.Tensor {
  const keep = 1 - rate;
  return tf.mul(tf.floor(tf.add(uniform, keep)), 1 / keep);
}

/** x with each element zeroed with probability `rate` and the rest scaled by 1 / (1 − rate); the mask is fixed by `seed`. */
export function nativeDropout<T extends tf.Tensor>(x: T, rate: number, seed: number): T {
  const mask = tf.tidy(() => keepMask(statelessUniform(x.shape, seed), rate));
  return tf.mul(x, mask) as T;
}

/**
 * `nativeDropout` of every step x[:, t] of a sequence [B, T, W] with seed
 * `seeds[t]`, in one multiply: the same masks, element for element, as
 * dropping each step on its own (the uniform numbers of a step depend only
 * on its shape [B, W] and seed), with 3 ops and one taped multiply instead
 * of that per step.
 */
export function nativeDropoutSteps(x: tf.Tensor3D, rate: number, seeds: readonly number[]): tf.Tensor3D {
  const [batch, steps, width] = x.shape;
  if (seeds.length !== steps) throw new Error(`nativeDropoutSteps: ${seeds.length} seeds for ${steps} steps.`);
  const mask = tf.tidy(() => keepMask(tf.stack(seeds.map((seed) => statelessUniform([batch, width], seed)), 1), rate));
  return tf.mul(x, mask) as tf.Tensor3D;
}
