/**
 * Sampling filters on logits [rows, V]: temperature, top-k and top-p
 * (nucleus, Holtzman et al. 2020). Filtered-out words get a log-probability
 * of BANNED (probability exactly 0), so they are never drawn.
 */
import * as tf from '@tensorflow/tfjs';
import { BANNED } from './constraints';

/** Keeps the k largest logits of each row (ties with the k-th included); k ≤ 0 or ≥ V keeps all. */
export function maskTopK(logits: tf.Tensor2D, k: number): tf.Tensor2D {
  const vocab = logits.shape[1];
  if (k <= 0 || k >= vocab) return logits;
  return tf.tidy(() => {
    const kth = tf.slice(tf.topk(logits, k, true).values, [0, k - 1], [-1, 1]);
    return tf.where(tf.less(logits, kth), tf.fill(logits.shape, BANNED), logits) as tf.Tensor2D;
  });
}

/**
 * Keeps, per row, the most likely words until their probability reaches p:
 * a word stays if the probability of the words ranked above it is below p
 * (so the top word always stays). p ≥ 1 keeps all.
 */
export function maskTopP(logits: tf.Tensor2D, p: number): tf.Tensor2D {
  if (p >= 1) return logits;
  return tf.tidy(() => {
    const vocab = logits.shape[1];
    const sorted = tf.topk(logits, vocab, true).values;
    const probs = tf.softmax(sorted);
    const before = tf.sub(tf.cumsum(probs, 1), probs);
    const kept = tf.less(before, p);
    const threshold = tf.min(tf.where(kept, sorted, tf.fill(sorted.shape, Infinity)), 1, true);
    return tf.where(tf.less(logits, threshold), tf.fill(logits.shape, BANNED), logits) as tf.Tensor2D;
  });
}

/** One sampled word per row from log-probabilities, after temperature, top-k and top-p. */
export function sampleWords(logProbs: tf.Tensor2D, options: { temperature: number; topK: number; topP: number }, seed: number): tf.Tensor1D {
  return tf.tidy(() => {
    const tempered = options.temperature === 1 ? logProbs : (tf.div(logProbs, Math.max(options.temperature, 1e-6)) as tf.Tensor2D);
    const filtered = maskTopP(maskTopK(tempered, options.topK), options.topP);
    return drawFromLogits(filtered, seed);
  });
}

/**
 * One draw per row from softmax(logits) by inverting the cumulative
 * distribution with one uniform number per row. Not tf.multinomial: native
 * TensorFlow's random kernels keep hidden state, so the same seed does not
 * give the same draws twice; these uniforms come from tfjs' seeded generator
 * in JavaScript, identical on every backend and in every run.
 */
export function drawFromLogits(logits: tf.Tensor2D, seed: number): tf.Tensor1D {
  return tf.tidy(() => {
    const [rows, vocab] = logits.shape;
    const cdf = tf.cumsum(tf.softmax(logits), 1);
    const u = tf.randomUniform([rows, 1], 0, 1, 'float32', seed);
    // The index of the first word whose cumulative probability reaches u; words of probability 0 are never it.
    const below = tf.sum(tf.cast(tf.less(cdf, u), 'int32'), 1);
    return tf.minimum(below, tf.scalar(vocab - 1, 'int32')) as tf.Tensor1D;
  });
}
