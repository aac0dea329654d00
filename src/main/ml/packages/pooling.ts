/**
 * How the scratch CNN turns its grid into the pooled vector (mean or max over
 * the cells), found by running it rather than assumed: caption.mjs
 * re-implements the CNN and must pool the same way, and a package made by
 * another version of the workbench must not be read with the wrong rule.
 */
import * as tf from '@tensorflow/tfjs';
import type { ScratchCnn } from '../model/encoders/scratchCnn';

export type Pooling = 'mean' | 'max';

export function scratchPooling(encoder: ScratchCnn): Pooling {
  const size = encoder.spec.inputSize;
  const differences = tf.tidy(() => {
    // A fixed, varied probe image: every cell differs, so mean and max differ.
    const probe = tf.add(tf.mul(tf.sin(tf.range(0, size * size * 3).reshape([1, size, size, 3])), 0.5), 0.5) as tf.Tensor4D;
    const { pooled, grid } = encoder.encode(probe);
    const gap = (other: tf.Tensor) => tf.max(tf.abs(tf.sub(pooled, other))).dataSync()[0]!;
    return { mean: gap(tf.mean(grid, 1)), max: gap(tf.max(grid, 1)) };
  });
  const tolerance = 1e-5;
  if (differences.mean <= tolerance && differences.max > tolerance) return 'mean';
  if (differences.max <= tolerance && differences.mean > tolerance) return 'max';
  if (differences.mean <= tolerance) return 'mean';
  throw new Error('The scratch CNN pools its grid neither by mean nor by max; caption.mjs cannot reproduce it, so the model is not exported.');
}
