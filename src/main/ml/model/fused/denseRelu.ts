/**
 * relu(x·W + b) as one node on the gradient tape, with TensorFlow's own
 * kernels: MatMul, BiasAdd and Relu forward; ReluGrad, BiasAddGrad and two
 * MatMuls with transpose attributes backward. tfjs runs the same layer as a
 * batched matmul, a broadcasting add (whose gradient is a reshape and a sum)
 * and a ReLU whose gradient takes four ops on the native backend.
 */
import * as tf from '@tensorflow/tfjs';
import { attr, matMul, runOp } from './nativeOps';

export function denseRelu(x: tf.Tensor2D, kernel: tf.Tensor2D, bias: tf.Tensor1D): tf.Tensor2D {
  const run = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const [input, w, b] = args as [tf.Tensor2D, tf.Tensor2D, tf.Tensor1D];
    const save = args[3] as tf.GradSaveFunc;
    const pre = runOp('BiasAdd', [attr.float32Type()], [matMul(input, w), b], 1)[0]!;
    const y = runOp('Relu', [attr.float32Type()], [pre], 1)[0] as tf.Tensor2D;
    save([input, w, y]);
    return {
      value: y,
      gradFunc: (dy: tf.Tensor2D, saved: tf.Tensor[]) => {
        const [savedInput, savedW, savedY] = saved as [tf.Tensor2D, tf.Tensor2D, tf.Tensor2D];
        const dPre = runOp('ReluGrad', [attr.float32Type()], [dy, savedY], 1)[0] as tf.Tensor2D;
        const dBias = runOp('BiasAddGrad', [attr.float32Type()], [dPre], 1)[0]!;
        return [matMul(dPre, savedW, false, true), matMul(savedInput, dPre, true, false), dBias];
      },
    };
  });
  return run(x, kernel, bias) as tf.Tensor2D;
}
