/**
 * A whole LSTM sequence as two TensorFlow kernels: `BlockLSTMV2` runs every
 * time step forward in C++ (gate matmul and gate arithmetic per step, no op
 * dispatch in between), and `BlockLSTMGradV2` runs backpropagation through
 * time, returning the gradients of the inputs, both weight matrices (as one),
 * the bias and the initial state. Wrapped in a custom gradient, so the tape
 * records one node for the sequence instead of a dozen per step.
 *
 * BlockLSTMV2's gate layout is [i | f | c | o], the same as ours
 * ([i | f | g | o], see recurrent.ts), and it reads one weight matrix for
 * [x, h], which is our kernel stacked on top of our recurrent matrix. No
 * peepholes, no cell clipping: the same function as `runLayer`'s LSTM.
 *
 * Padding: BlockLSTM has no per-row lengths, so on a padded step the state
 * moves on instead of being held. Padding only ever follows a row's real
 * steps and the loss gives padded positions zero weight, so the loss and
 * every gradient are those of the masked reference; only the (unused)
 * outputs at padded positions differ.
 */
import * as tf from '@tensorflow/tfjs';
import { attr, int64, runOp } from './nativeOps';

const FORWARD_OUTPUTS = 7; // i, cs, f, o, ci, co, h
const GRAD_OUTPUTS = 8; // x, cs_prev, h_prev, w, wci, wcf, wco, b

/**
 * x [B, T, inputDim] → h of every step [B, T, units]. `kernel` [inputDim, 4H],
 * `recurrent` [H, 4H], `bias` [4H], initial state h0, c0 [B, H].
 */
export function lstmSequence(
  x: tf.Tensor3D,
  kernel: tf.Tensor2D,
  recurrent: tf.Tensor2D,
  bias: tf.Tensor1D,
  h0: tf.Tensor2D,
  c0: tf.Tensor2D,
): tf.Tensor3D {
  const [, steps, inputDim] = x.shape;
  const units = recurrent.shape[0];
  const run = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const [xIn, kernelIn, recurrentIn, biasIn, h0In, c0In] = args as tf.Tensor[];
    const save = args[6] as tf.GradSaveFunc;
    const timeMajor = tf.transpose(xIn!, [1, 0, 2]);
    const weights = tf.concat([kernelIn!, recurrentIn!], 0);
    const noPeephole = tf.zeros([units]);
    const outputs = runOp(
      'BlockLSTMV2',
      [attr.float('cell_clip', 0), attr.bool('use_peephole', false), attr.float32Type()],
      [int64(steps), timeMajor, c0In!, h0In!, weights, noPeephole, noPeephole, noPeephole, biasIn!],
      FORWARD_OUTPUTS,
    );
    save([timeMajor, c0In!, h0In!, weights, biasIn!, ...outputs]);
    return {
      value: tf.transpose(outputs[6]!, [1, 0, 2]) as tf.Tensor3D,
      gradFunc: (dy: tf.Tensor3D, saved: tf.Tensor[]) => {
        const [savedX, savedC0, savedH0, savedWeights, savedBias, ...forward] = saved as [tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor, ...tf.Tensor[]];
        const zeros = tf.zeros([units]);
        const hGrad = tf.transpose(dy, [1, 0, 2]);
        const grads = runOp(
          'BlockLSTMGradV2',
          [attr.bool('use_peephole', false), attr.float32Type()],
          [int64(steps), savedX, savedC0, savedH0, savedWeights, zeros, zeros, zeros, savedBias, ...forward, tf.zerosLike(hGrad), hGrad],
          GRAD_OUTPUTS,
        );
        const [xGrad, c0Grad, h0Grad, wGrad, , , , bGrad] = grads as [tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor2D, tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor];
        return [
          tf.transpose(xGrad, [1, 0, 2]),
          tf.slice(wGrad, [0, 0], [inputDim, 4 * units]),
          tf.slice(wGrad, [inputDim, 0], [units, 4 * units]),
          bGrad,
          h0Grad,
          c0Grad,
        ];
      },
    };
  });
  return run(x, kernel, recurrent, bias, h0, c0) as tf.Tensor3D;
}
