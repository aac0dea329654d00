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

/** x with each element zeroed with probability `rate` and the rest scaled by 1 / (1 − rate); the mask is fixed by `seed`. */
export function nativeDropout<T extends tf.Tensor>(x: T, rate: number, seed: number): T {
  const keep = 1 - rate;
  const mask = tf.tidy(() => {
    const shape = tf.tensor1d(x.shape, 'int32');
    const seeds = tf.tensor1d([seed | 0, 0], 'int32');
    const uniform = runOp(
      'StatelessRandomUniform',
      [attr.float32Type('dtype'), attr.int32Type('T'), attr.int32Type('Tseed')],
      [shape, seeds],
      1,
    )[0]!;
    // floor(keep + u) is 1 with probability `keep`.
    return tf.mul(tf.floor(tf.add(uniform, keep)), 1 / keep);
  });
  return tf.mul(x, mask) as T;
}
