/**
 * A whole LSTM sequence as one node on the gradient tape. Forward is
 * TensorFlow's `BlockLSTMV2` kernel, which runs every time step in C++ (gate
 * matmul and gate arithmetic per step, no op dispatch in between) and keeps
 * the gate activations; backward is backpropagation through time written
 * out from those activations (see `backward` for why not BlockLSTMGradV2).
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
import { attr, int64, matMul, runOp } from './nativeOps';

const FORWARD_OUTPUTS = 7; // i, cs, f, o, ci, co, h

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
  const steps = x.shape[1];
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
    const [i, c, f, o, ci, co, h] = outputs as tf.Tensor3D[];
    save([timeMajor, c0In!, h0In!, kernelIn!, recurrentIn!, i!, c!, f!, o!, ci!, co!, h!]);
    return {
      value: tf.transpose(h!, [1, 0, 2]) as tf.Tensor3D,
      gradFunc: (dy: tf.Tensor3D, saved: tf.Tensor[]) => {
        const [xs, savedC0, savedH0, savedKernel, savedRecurrent, ...activations] = saved;
        const [si, sc, sf, so, sci, sco, sh] = activations as tf.Tensor3D[];
        const state = { c0: savedC0 as tf.Tensor2D, h0: savedH0 as tf.Tensor2D };
        const weightsIn = { kernel: savedKernel as tf.Tensor2D, recurrent: savedRecurrent as tf.Tensor2D };
        return backward(dy, xs as tf.Tensor3D, state, weightsIn, { i: si!, c: sc!, f: sf!, o: so!, ci: sci!, co: sco!, h: sh! });
      },
    };
  });
  return run(x, kernel, recurrent, bias, h0, c0) as tf.Tensor3D;
}

/** BlockLSTMV2's saved activations, time-major [T, B, H]: gates i, f, o, cell input tanh(g), cell state c, tanh(c), h. */
interface Activations {
  i: tf.Tensor3D;
  f: tf.Tensor3D;
  o: tf.Tensor3D;
  ci: tf.Tensor3D;
  c: tf.Tensor3D;
  co: tf.Tensor3D;
  h: tf.Tensor3D;
}

/**
 * Backpropagation through time from the forward kernel's activations.
 * TensorFlow's BlockLSTMGradV2 does this too, but with a small Eigen matmul
 * for the weight gradient at every step (measured at about 2.5× the forward
 * kernel's time). Here each step is one `LSTMBlockCellGrad` (the gate
 * gradients and dc_prev from dh and dc: elementwise only, no matmul) and one
 * matmul dh_prev = dz·Uᵀ; the weight and input gradients are single large
 * matmuls over all steps afterwards. LSTMBlockCellGrad orders the gates
 * [i | g | f | o], so U is permuted to that order for the step matmul and the
 * stacked gradients are permuted back once.
 */
function backward(
  dy: tf.Tensor3D,
  xs: tf.Tensor3D,
  { c0, h0 }: { c0: tf.Tensor2D; h0: tf.Tensor2D },
  { kernel, recurrent }: { kernel: tf.Tensor2D; recurrent: tf.Tensor2D },
  a: Activations,
): tf.Tensor[] {
  const [steps, batch, units] = a.h.shape;
  const inputDim = xs.shape[2];
  const shiftedIn = (first: tf.Tensor2D, all: tf.Tensor3D) =>
    steps === 1 ? tf.expandDims(first, 0) : tf.concat([tf.expandDims(first, 0), tf.slice(all, [0, 0, 0], [steps - 1, batch, units])], 0);
  const cPrev = shiftedIn(c0, a.c);
  const hPrev = shiftedIn(h0, a.h);
  // Per step, TensorFlow's LSTMBlockCellGrad forms the gate gradients (no
  // matmul): it takes the gradients of h and c and returns the pre-activation
  // gradients, in its gate order [i | g | f | o], and dc_prev.
  const icfo = (m: tf.Tensor2D) => {
    const [i, f, g, o] = tf.split(m, 4, 1);
    return tf.concat([i!, g!, f!, o!], 1) as tf.Tensor2D;
  };
  const recurrentIcfo = icfo(recurrent);
  const weights = tf.concat([kernel, recurrent], 0);
  const zeros = tf.zeros([units]);
  const [xSteps, cPrevSteps, hPrevSteps, iSteps, cSteps, fSteps, oSteps, ciSteps, coSteps] = [xs, cPrev, hPrev, a.i, a.c, a.f, a.o, a.ci, a.co].map(
    (t) => tf.unstack(t),
  ) as tf.Tensor2D[][];
  const dySteps = tf.unstack(tf.transpose(dy, [1, 0, 2]));
  const dz: tf.Tensor[] = new Array<tf.Tensor>(steps);
  let dhCarry: tf.Tensor | null = null;
  let dcCarry: tf.Tensor = tf.zeros([batch, units]);
  const bias = tf.zeros([4 * units]);
  for (let t = steps - 1; t >= 0; t--) {
    const dh: tf.Tensor = dhCarry ? tf.add(dySteps[t]!, dhCarry) : dySteps[t]!;
    const [cPrevGrad, dicfo] = runOp(
      'LSTMBlockCellGrad',
      [attr.bool('use_peephole', false), attr.float32Type()],
      [xSteps![t]!, cPrevSteps![t]!, hPrevSteps![t]!, weights, zeros, zeros, zeros, bias, iSteps![t]!, cSteps![t]!, fSteps![t]!, oSteps![t]!, ciSteps![t]!, coSteps![t]!, dcCarry, dh],
      5,
    ) as [tf.Tensor2D, tf.Tensor2D];
    dz[t] = dicfo;
    dcCarry = cPrevGrad;
    dhCarry = matMul(dicfo, recurrentIcfo, false, true);
  }
  const stacked = tf.reshape(tf.stack(dz), [steps * batch, 4 * units]) as tf.Tensor2D;
  const [zi, zg, zf, zo] = tf.split(stacked, 4, 1);
  const dzAll = tf.concat([zi!, zf!, zg!, zo!], 1) as tf.Tensor2D;
  const xFlat = tf.reshape(xs, [steps * batch, inputDim]) as tf.Tensor2D;
  const dKernel = matMul(xFlat, dzAll, true, false);
  const dRecurrent = matMul(tf.reshape(hPrev, [steps * batch, units]) as tf.Tensor2D, dzAll, true, false);
  const dBias = tf.sum(dzAll, 0);
  const dx = tf.transpose(tf.reshape(matMul(dzAll, kernel, false, true), [steps, batch, inputDim]), [1, 0, 2]);
  return [dx, dKernel, dRecurrent, dBias, dhCarry ?? tf.zerosLike(h0), dcCarry];
}
