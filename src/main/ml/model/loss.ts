/**
 * Masked softmax cross-entropy with optional label smoothing, with its
 * gradient written out (softmax − target) instead of differentiating through
 * log-softmax and a gather: one fused expression, no scatter of the gather's
 * gradient, and exactly zero gradient from padded positions.
 */
import * as tf from '@tensorflow/tfjs';
import { fusedMaskedCrossEntropy } from './fused/crossEntropy';
import { fusedKernelsEnabled } from './fused/nativeOps';

/**
 * logits [N, V], targets [N] int32, weights [N] (1 = real token, 0 = padding).
 * Returns the mean over weighted tokens of −Σ q log p, where q is the one-hot
 * target smoothed by `smoothing` (q = (1 − ε)·onehot + ε / V).
 */
export function maskedCrossEntropy(
  logits: tf.Tensor2D,
  targets: tf.Tensor1D,
  weights: tf.Tensor1D,
  smoothing = 0,
): tf.Scalar {
  // Native TensorFlow: one kernel for the loss and its gradient (same function).
  if (fusedKernelsEnabled()) return fusedMaskedCrossEntropy(logits, targets, weights, smoothing);
  const vocab = logits.shape[1];
  const lossFn = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const x = args[0] as tf.Tensor2D;
    const save = args[1] as tf.GradSaveFunc;
    const logProbs = tf.logSoftmax(x);
    const q = smoothedTargets(targets, vocab, smoothing);
    const denominator = tf.maximum(tf.sum(weights), 1);
    const perToken = tf.neg(tf.sum(tf.mul(q, logProbs), 1));
    const value = tf.div(tf.sum(tf.mul(perToken, weights)), denominator) as tf.Scalar;
    // Everything the gradient needs goes through save(): tensors only captured
    // by the closure may be released before the backward pass runs.
    save([logProbs, q, denominator, weights]);
    return {
      value,
      gradFunc: (dy: tf.Scalar, saved: tf.Tensor[]) => {
        const [savedLogProbs, savedQ, savedDenominator, savedWeights] = saved as [tf.Tensor2D, tf.Tensor2D, tf.Scalar, tf.Tensor1D];
        const scale = tf.div(tf.mul(savedWeights, dy), savedDenominator).reshape([-1, 1]);
        return [tf.mul(tf.sub(tf.exp(savedLogProbs), savedQ), scale)];
      },
    };
  });
  return lossFn(logits) as tf.Scalar;
}

function smoothedTargets(targets: tf.Tensor1D, vocab: number, smoothing: number): tf.Tensor2D {
  // One-hot as int32, then cast: the wasm backend's OneHot writes int32 bits whatever dtype is asked.
  const oneHot = tf.cast(tf.oneHot(targets, vocab), 'float32') as tf.Tensor2D;
  if (smoothing <= 0) return oneHot;
  return tf.add(tf.mul(oneHot, 1 - smoothing), smoothing / vocab) as tf.Tensor2D;
}
