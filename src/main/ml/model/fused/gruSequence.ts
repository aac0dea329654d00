/**
 * A whole GRU sequence (reset gate after the recurrent matmul, as in
 * recurrent.ts) with backpropagation through time written out, as one node
 * on the gradient tape.
 *
 * TensorFlow's `GRUBlockCell`/`GRUBlockCellGrad` compute the other GRU
 * (reset gate applied to h before the recurrent matmul: (r·h)·U, where ours
 * and Keras' default take r·(h·U + b)), so they cannot stand in for ours,
 * and `CudnnRNNV3` runs on GPUs only. What the custom gradient saves over
 * the taped reference: no tape bookkeeping per op, every gradient
 * coefficient computed once for all steps, so that a step of the backward
 * pass is three ops (the reference's taped step is about 25), and the
 * recurrent weights' gradient as one matmul over all steps instead of a sum
 * of one per step. The per-step matmuls are TensorFlow's 2-D `MatMul` (and
 * `BiasAdd`) by name: tfjs runs its matmul as `BatchMatMulV2` (plus an `Add`
 * for a fused bias), measured at about twice the time for [64, 256] ×
 * [256, 768].
 *
 * Per step, with x the projected input [xz | xr | xn] (bias included) and
 * p = h·U + b_U = [hz | hr | hn]:
 *   z = σ(xz + hz)   r = σ(xr + hr)   n = tanh(xn + r·hn)   h' = n + z·(h − n)
 * Padding is not held (see lstmSequence.ts: the masked loss makes that exact).
 */
import * as tf from '@tensorflow/tfjs';
import { attr, matMul, runOp } from './nativeOps';

/**
 * `projected` [B, T, 3H] (the input part of every gate, bias included),
 * `recurrent` [H, 3H], `recurrentBias` [3H], `h0` [B, H] → h of every step [B, T, H].
 *
 * The forward step is the reference's arithmetic in 12 ops. The backward
 * step is 3 ops: every gradient of a step is dh (the gradient of its
 * output) times a coefficient that does not depend on dh, so the
 * coefficients of all steps are formed before the loop, in a few batched
 * ops, as [T, B, 4, H] = [z-gate, r-gate, candidate, carry] (see `backward`).
 */
export function gruSequence(projected: tf.Tensor3D, recurrent: tf.Tensor2D, recurrentBias: tf.Tensor1D, h0: tf.Tensor2D): tf.Tensor3D {
  const steps = projected.shape[1];
  const units = recurrent.shape[0];
  const run = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const [x, u, bu, hInit] = args as [tf.Tensor3D, tf.Tensor2D, tf.Tensor1D, tf.Tensor2D];
    const save = args[4] as tf.GradSaveFunc;
    const [xzr, xn] = tf.split(tf.transpose(x, [1, 0, 2]), [2 * units, units], 2) as [tf.Tensor3D, tf.Tensor3D];
    const xzrSteps = tf.unstack(xzr) as tf.Tensor2D[];
    const xnSteps = tf.unstack(xn) as tf.Tensor2D[];
    let h = hInit;
    const previous: tf.Tensor2D[] = [];
    const gates: tf.Tensor2D[] = []; // σ([z | r]) per step
    const candidates: tf.Tensor2D[] = []; // n per step
    const recurrentN: tf.Tensor2D[] = []; // hn per step
    for (let t = 0; t < steps; t++) {
      // Raw MatMul and BiasAdd: tf.fused.matMul is a BatchMatMul and a broadcasting Add on this backend, about twice the time.
      const p = runOp('BiasAdd', [attr.float32Type()], [matMul(h, u), bu], 1)[0] as tf.Tensor2D;
      const [pzr, pn] = tf.split(p, [2 * units, units], 1) as [tf.Tensor2D, tf.Tensor2D];
      const zr = tf.sigmoid(tf.add(xzrSteps[t]!, pzr)) as tf.Tensor2D;
      const [z, r] = tf.split(zr, 2, 1) as [tf.Tensor2D, tf.Tensor2D];
      const n = tf.tanh(tf.add(xnSteps[t]!, tf.mul(r, pn))) as tf.Tensor2D;
      previous.push(h);
      gates.push(zr);
      candidates.push(n);
      recurrentN.push(pn);
      h = tf.add(n, tf.mul(z, tf.sub(h, n))) as tf.Tensor2D;
    }
    // Time-major [T, B, H]: h_0 … h_{T−1} as inputs of the steps, then the outputs h_1 … h_T.
    const inputs = tf.stack(previous) as tf.Tensor3D;
    const outputs = steps === 1 ? tf.expandDims(h, 0) : tf.concat([tf.slice(inputs, [1, 0, 0], [steps - 1, -1, -1]), tf.expandDims(h, 0)], 0);
    save([u, inputs, tf.stack(gates), tf.stack(candidates), tf.stack(recurrentN)]);
    return {
      value: tf.transpose(outputs, [1, 0, 2]) as tf.Tensor3D,
      gradFunc: (dy: tf.Tensor3D, saved: tf.Tensor[]) => backward(dy, saved as [tf.Tensor2D, tf.Tensor3D, tf.Tensor3D, tf.Tensor3D, tf.Tensor3D]),
    };
  });
  return run(projected, recurrent, recurrentBias, h0) as tf.Tensor3D;
}

/**
 * Backpropagation through time. With dh the gradient of a step's output
 * (the incoming dy plus what the next step passes back), a = (1 − z)(1 − n²):
 *   d(z pre) = dh·(h − n)·z(1 − z)      d(r pre) = dh·a·hn·r(1 − r)
 *   d(n pre) = dh·a                     d(hn)    = dh·a·r
 *   dh_prev  = dh·z + d[z pre | r pre | hn]·Uᵀ
 * Each is dh times a coefficient known before the loop. So each step is one
 * multiply, dh [B, 1, H] by its coefficients [B, 4, H], one matmul with
 * [Uᵀ; I] [4H, H] (the identity block carries dh·z into the sum) and one add
 * of the next dy: 3 ops instead of a dozen. The input, weight and bias
 * gradients are batched over all steps afterwards.
 */
function backward(dy: tf.Tensor3D, [u, hPrev, zrAll, nAll, pnAll]: [tf.Tensor2D, tf.Tensor3D, tf.Tensor3D, tf.Tensor3D, tf.Tensor3D]): tf.Tensor[] {
  const [steps, batch, units] = hPrev.shape;
  const [zAll, rAll] = tf.split(zrAll, 2, 2) as [tf.Tensor3D, tf.Tensor3D];
  const oneMinusZ = tf.sub(1, zAll);
  const a = tf.mul(oneMinusZ, tf.sub(1, tf.square(nAll)));
  const cz = tf.mul(tf.sub(hPrev, nAll), tf.mul(zAll, oneMinusZ));
  const cr = tf.mul(tf.mul(a, pnAll), tf.mul(rAll, tf.sub(1, rAll)));
  const cn = tf.mul(a, rAll);
  const coefficients = tf.unstack(tf.stack([cz, cr, cn, zAll], 2)) as tf.Tensor3D[]; // T × [B, 4, H]
  const back = tf.concat([tf.transpose(u), tf.eye(units)], 0) as tf.Tensor2D; // [4H, H]
  const dySteps = tf.unstack(tf.transpose(dy, [1, 0, 2])) as tf.Tensor2D[];
  const dhs: tf.Tensor2D[] = new Array<tf.Tensor2D>(steps);
  const dqs: tf.Tensor2D[] = new Array<tf.Tensor2D>(steps); // [d(z pre) | d(r pre) | d(hn) | dh·z] per step
  let carry: tf.Tensor2D | null = null;
  for (let t = steps - 1; t >= 0; t--) {
    const dh: tf.Tensor2D = carry ? tf.add(dySteps[t]!, carry) : dySteps[t]!;
    const dq = tf.reshape(tf.mul(tf.expandDims(dh, 1), coefficients[t]!), [batch, 4 * units]) as tf.Tensor2D;
    dhs[t] = dh;
    dqs[t] = dq;
    carry = matMul(dq, back);
  }
  const dq = tf.reshape(tf.stack(dqs), [steps * batch, 4 * units]) as tf.Tensor2D;
  const dp = tf.slice(dq, [0, 0], [steps * batch, 3 * units]) as tf.Tensor2D; // d(h·U + b_U)
  const dU = matMul(tf.reshape(hPrev, [steps * batch, units]) as tf.Tensor2D, dp, true, false);
  const dbU = tf.sum(dp, 0);
  const dGates = tf.slice(dq, [0, 0], [steps * batch, 2 * units]);
  const dCandidate = tf.reshape(tf.mul(tf.stack(dhs), a), [steps * batch, units]);
  const dx = tf.transpose(tf.reshape(tf.concat([dGates, dCandidate], 1), [steps, batch, 3 * units]), [1, 0, 2]);
  return [dx, dU, dbU, carry ?? tf.zeros([batch, units])];
}
