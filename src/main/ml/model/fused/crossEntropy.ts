/**
 * Masked softmax cross-entropy as one TensorFlow kernel:
 * `SparseSoftmaxCrossEntropyWithLogits` (integer targets) computes each
 * row's loss and its gradient (softmax − one-hot) in a single pass over the
 * logits; with label smoothing, `SoftmaxCrossEntropyWithLogits` does the same
 * with the smoothed target distribution. The gradient computed in the forward
 * pass is saved and only scaled by the token weights in the backward pass.
 * Same function and gradient as `maskedCrossEntropy` in ../loss.ts.
 */
import * as tf from '@tensorflow/tfjs';
import { attr, runOp } from './nativeOps';

/** logits [N, V], targets [N] int32, weights [N]: mean over weighted tokens of −Σ q log p. */
export function fusedMaskedCrossEntropy(logits: tf.Tensor2D, targets: tf.Tensor1D, weights: tf.Tensor1D, smoothing: number): tf.Scalar {
  const vocab = logits.shape[1];
  const lossFn = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const x = args[0] as tf.Tensor2D;
    const save = args[1] as tf.GradSaveFunc;
    const [perToken, backprop] =
      smoothing > 0
        ? runOp('SoftmaxCrossEntropyWithLogits', [attr.float32Type()], [x, smoothedTargets(targets, vocab, smoothing)], 2)
        : runOp('SparseSoftmaxCrossEntropyWithLogits', [attr.float32Type(), attr.int32Type('Tlabels')], [x, targets], 2);
    const denominator = tf.maximum(tf.sum(weights), 1);
    const value = tf.div(tf.sum(tf.mul(perToken!, weights)), denominator) as tf.Scalar;
    save([backprop!, denominator, weights]);
    return {
      value,
      gradFunc: (dy: tf.Scalar, saved: tf.Tensor[]) => {
        const [savedBackprop, savedDenominator, savedWeights] = saved as [tf.Tensor2D, tf.Scalar, tf.Tensor1D];
        const scale = tf.reshape(tf.div(tf.mul(savedWeights, dy), savedDenominator), [-1, 1]);
        return [tf.mul(savedBackprop, scale)];
      },
    };
  });
  return lossFn(logits) as tf.Scalar;
}

function smoothedTargets(targets: tf.Tensor1D, vocab: number, smoothing: number): tf.Tensor2D {
  return tf.oneHot(targets, vocab, 1 - smoothing + smoothing / vocab, smoothing / vocab, 'float32') as tf.Tensor2D;
}
