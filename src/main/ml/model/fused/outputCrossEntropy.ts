/**
 * The output layer and the masked softmax cross-entropy as one node on the
 * gradient tape: logits = h·W + b, loss = mean over weighted tokens of
 * −Σ_v q_v log softmax(logits)_v with q the (optionally smoothed) one-hot
 * target. Same function and gradients as `outputLogits` followed by
 * `maskedCrossEntropy`, with far fewer passes over the [tokens, vocabulary]
 * matrix, which dominates the training step's memory traffic:
 *
 * - forward: the logits, their row maxima, e = exp(logits − max), the row
 *   sums of e and the target logits (a gather); no log-softmax, no one-hot.
 * - backward: the gradient of the logits, (softmax − q)·w/Σw, is never
 *   formed. Its products with h and W are taken apart: the softmax part is
 *   one matmul of e with per-row scales folded into the small operand, the
 *   one-hot part is a segment sum of rows of h (dW, db) or a gather of
 *   columns of W (dh), the label-smoothing part a row or column sum.
 *
 * TensorFlow's SparseSoftmaxCrossEntropyWithLogits kernel does the loss and
 * its gradient in one call, but on the CPU it takes about twice as long as
 * log-softmax alone (see docs/performance.md), and it still materializes the
 * gradient matrix; this is cheaper.
 *
 * The value is [total, plain]: the loss with label smoothing (what training
 * minimizes) and without (what is reported); equal when smoothing is 0.
 */
import * as tf from '@tensorflow/tfjs';
import { attr, matMul, runOp } from './nativeOps';

export function outputCrossEntropy(
  hidden: tf.Tensor2D,
  kernel: tf.Tensor2D,
  bias: tf.Tensor1D,
  targets: tf.Tensor1D,
  weights: tf.Tensor1D,
  smoothing: number,
): tf.Tensor1D {
  const [rows, units] = hidden.shape;
  const vocab = kernel.shape[1];
  const run = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const [h, w, b] = args as [tf.Tensor2D, tf.Tensor2D, tf.Tensor1D];
    const save = args[3] as tf.GradSaveFunc;
    const logits = runOp('BiasAdd', [attr.float32Type()], [matMul(h, w), b], 1)[0] as tf.Tensor2D;
    const rowMax = tf.max(logits, 1, true);
    const e = tf.exp(tf.sub(logits, rowMax)) as tf.Tensor2D;
    const sumE = tf.sum(e, 1);
    const flatTargets = tf.add(tf.mul(tf.range(0, rows, 1, 'int32'), tf.scalar(vocab, 'int32')), targets);
    const targetLogit = tf.gather(tf.reshape(logits, [-1]), flatTargets);
    const logSumExp = tf.add(tf.log(sumE), tf.reshape(rowMax, [-1]));
    const plainPerToken = tf.sub(logSumExp, targetLogit);
    const denominator = tf.maximum(tf.sum(weights), 1);
    const meanOf = (perToken: tf.Tensor) => tf.div(tf.sum(tf.mul(perToken, weights)), denominator);
    const plain = meanOf(plainPerToken);
    // −Σ q log p = lse − (1 − ε)·x_target − (ε / V)·Σ_v x_v
    const total =
      smoothing > 0
        ? meanOf(tf.sub(tf.sub(logSumExp, tf.mul(targetLogit, 1 - smoothing)), tf.mul(tf.sum(logits, 1), smoothing / vocab)))
        : plain;
    save([h, w, e, sumE, tf.div(weights, denominator), targets]);
    return {
      value: tf.stack([total, plain]) as tf.Tensor1D,
      gradFunc: (dy: tf.Tensor1D, saved: tf.Tensor[]) => {
        const [savedH, savedW, savedE, savedSumE, tokenScale, savedTargets] = saved as [tf.Tensor2D, tf.Tensor2D, tf.Tensor2D, tf.Tensor1D, tf.Tensor1D, tf.Tensor1D];
        const [dTotal, dPlain] = tf.unstack(dy) as [tf.Scalar, tf.Scalar];
        // d logits = s_r · (a·softmax − c·onehot − u), s_r = w_r / Σw, with
        // a = dTotal + dPlain, c = dTotal·(1 − ε) + dPlain, u = dTotal·ε / V.
        const a = tf.add(dTotal, dPlain);
        const c = tf.add(tf.mul(dTotal, 1 - smoothing), dPlain);
        const softmaxScale = tf.div(tf.mul(tokenScale, a), savedSumE); // per row: a·s_r / Σe
        const oneHotScale = tf.mul(tokenScale, c); // per row: c·s_r
        // dW = hᵀ·dlogits
        let dW = tf.sub(
          matMul(tf.mul(savedH, tf.reshape(softmaxScale, [-1, 1])) as tf.Tensor2D, savedE, true, false),
          tf.transpose(tf.unsortedSegmentSum(tf.mul(savedH, tf.reshape(oneHotScale, [-1, 1])), savedTargets, vocab)),
        );
        // db = Σ_r dlogits_r
        let db = tf.sub(
          tf.reshape(matMul(tf.reshape(softmaxScale, [1, -1]) as tf.Tensor2D, savedE), [vocab]),
          tf.unsortedSegmentSum(oneHotScale, savedTargets, vocab),
        );
        // dh = dlogits·Wᵀ
        let dh = tf.sub(
          tf.mul(matMul(savedE, savedW, false, true), tf.reshape(softmaxScale, [-1, 1])),
          tf.mul(tf.transpose(tf.gather(savedW, savedTargets, 1)), tf.reshape(oneHotScale, [-1, 1])),
        );
        if (smoothing > 0) {
          const uniform = tf.mul(tokenScale, tf.mul(dTotal, smoothing / vocab)); // per row: u·s_r
          dW = tf.sub(dW, tf.reshape(tf.sum(tf.mul(savedH, tf.reshape(uniform, [-1, 1])), 0), [units, 1]));
          db = tf.sub(db, tf.sum(uniform));
          dh = tf.sub(dh, tf.mul(tf.reshape(uniform, [-1, 1]), tf.reshape(tf.sum(savedW, 1), [1, units])));
        }
        return [dh, dW, db];
      },
    };
  });
  return run(hidden, kernel, bias) as tf.Tensor1D;
}
