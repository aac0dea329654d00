/**
 * x·W (+ b) as one node on the gradient tape, with TensorFlow's 2-D `MatMul`
 * (and `BiasAdd`) by name; backward two `MatMul`s with transpose attributes
 * (and `BiasAddGrad`). tfjs runs a 2-D matmul as `BatchMatMulV2` (its
 * gradient as two more, plus transposes) and a fused bias as a broadcasting
 * `Add`; for the small per-step matmuls of the attention decoder and the
 * recurrent cells ([64, 256] × [256, 768], say) the 2-D kernel took about
 * half the time. Used only where `fusedKernelsEnabled()`.
 */
import * as tf from '@tensorflow/tfjs';
import { attr, matMul, runOp } from './nativeOps';

export function linear(x: tf.Tensor2D, kernel: tf.Tensor2D, bias?: tf.Tensor1D): tf.Tensor2D {
  if (bias) {
    const withBias = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
      const [input, w, b] = args as [tf.Tensor2D, tf.Tensor2D, tf.Tensor1D];
      (args[3] as tf.GradSaveFunc)([input, w]);
      return {
        value: runOp('BiasAdd', [attr.float32Type()], [matMul(input, w), b], 1)[0] as tf.Tensor2D,
        gradFunc: (dy: tf.Tensor2D, [savedInput, savedW]: tf.Tensor[]) => [
          matMul(dy, savedW as tf.Tensor2D, false, true),
          matMul(savedInput as tf.Tensor2D, dy, true, false),
          runOp('BiasAddGrad', [attr.float32Type()], [dy], 1)[0]!,
        ],
      };
    });
    return withBias(x, kernel, bias) as tf.Tensor2D;
  }
  const plain = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const [input, w] = args as [tf.Tensor2D, tf.Tensor2D];
    (args[2] as tf.GradSaveFunc)([input, w]);
    return {
      value: matMul(input, w),
      gradFunc: (dy: tf.Tensor2D, [savedInput, savedW]: tf.Tensor[]) => [matMul(dy, savedW as tf.Tensor2D, false, true), matMul(savedInput as tf.Tensor2D, dy, true, false)],
    };
  });
  return plain(x, kernel) as tf.Tensor2D;
}
