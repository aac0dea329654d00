/**
 * A whole GRU sequence (reset gate after the recurrent matmul, as in
 * recurrent.ts) with backpropagation through time written out, as one node
 * on the gradient tape.
 *
 * TensorFlow's `GRUBlockCell` computes the other GRU (reset gate applied
 * before the recurrent matmul), so it cannot stand in for ours, and
 * `CudnnRNNV3` runs on GPUs only. What the custom gradient saves over the
 * taped reference: no tape bookkeeping per op, every gradient quantity that
 * does not depend on the incoming gradient computed once for all steps, and
 * the recurrent weights' gradient as one matmul over all steps instead of a
 * sum of one per step.
 *
 * Per step, with x the projected input [xz | xr | xn] (bias included) and
 * p = h·U + b_U = [hz | hr | hn]:
 *   z = σ(xz + hz)   r = σ(xr + hr)   n = tanh(xn + r·hn)   h' = n + z·(h − n)
 * Padding is not held (see lstmSequence.ts: the masked loss makes that exact).
 */
import * as tf from '@tensorflow/tfjs';

/**
 * `projected` [B, T, 3H] (the input part of every gate, bias included),
 * `recurrent` [H, 3H], `recurrentBias` [3H], `h0` [B, H] → h of every step [B, T, H].
 */
export function gruSequence(projected: tf.Tensor3D, recurrent: tf.Tensor2D, recurrentBias: tf.Tensor1D, h0: tf.Tensor2D): tf.Tensor3D {
  const [batch, steps] = projected.shape;
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
    const outputs: tf.Tensor2D[] = [];
    for (let t = 0; t < steps; t++) {
      const p = tf.fused.matMul({ a: h, b: u, bias: bu });
      const [pzr, pn] = tf.split(p, [2 * units, units], 1) as [tf.Tensor2D, tf.Tensor2D];
      const zr = tf.sigmoid(tf.add(xzrSteps[t]!, pzr)) as tf.Tensor2D;
      const r = tf.slice(zr, [0, units], [batch, units]);
      const z = tf.slice(zr, [0, 0], [batch, units]);
      const n = tf.tanh(tf.add(xnSteps[t]!, tf.mul(r, pn))) as tf.Tensor2D;
      const next = tf.add(n, tf.mul(z, tf.sub(h, n))) as tf.Tensor2D;
      previous.push(h);
      gates.push(zr);
      candidates.push(n);
      recurrentN.push(pn);
      outputs.push(next);
      h = next;
    }
    const hs = tf.stack(outputs, 1) as tf.Tensor3D;
    save([u, tf.stack(previous), tf.stack(gates), tf.stack(candidates), tf.stack(recurrentN)]);
    return {
      value: hs,
      gradFunc: (dy: tf.Tensor3D, saved: tf.Tensor[]) => {
        const [savedU, hPrev, zrAll, nAll, pnAll] = saved as [tf.Tensor2D, tf.Tensor3D, tf.Tensor3D, tf.Tensor3D, tf.Tensor3D];
        // Everything that does not depend on the incoming gradient, for all steps at once.
        const [zAll, rAll] = tf.split(zrAll, 2, 2) as [tf.Tensor3D, tf.Tensor3D];
        const oneMinusZ = tf.unstack(tf.sub(1, zAll));
        const hMinusN = tf.unstack(tf.sub(hPrev, nAll));
        const tanhSlope = tf.unstack(tf.sub(1, tf.square(nAll)));
        const sigmoidSlope = tf.unstack(tf.mul(zrAll, tf.sub(1, zrAll)));
        const zSteps = tf.unstack(zAll);
        const rSteps = tf.unstack(rAll);
        const pnSteps = tf.unstack(pnAll);
        const dySteps = tf.unstack(tf.transpose(dy, [1, 0, 2]));
        const dGatePre: tf.Tensor[] = new Array<tf.Tensor>(steps); // d[z|r] pre-activation per step
        const dCandidatePre: tf.Tensor[] = new Array<tf.Tensor>(steps);
        const dRecurrent: tf.Tensor[] = new Array<tf.Tensor>(steps); // d p per step
        let carry: tf.Tensor | null = null;
        for (let t = steps - 1; t >= 0; t--) {
          const dh: tf.Tensor = carry ? tf.add(dySteps[t]!, carry) : dySteps[t]!;
          const dnPre = tf.mul(tf.mul(dh, oneMinusZ[t]!), tanhSlope[t]!);
          const dz = tf.mul(dh, hMinusN[t]!);
          const dr = tf.mul(dnPre, pnSteps[t]!);
          const dzr = tf.mul(tf.concat([dz, dr], 1), sigmoidSlope[t]!);
          const dp = tf.concat([dzr, tf.mul(dnPre, rSteps[t]!)], 1) as tf.Tensor2D;
          dGatePre[t] = dzr;
          dCandidatePre[t] = dnPre;
          dRecurrent[t] = dp;
          carry = tf.add(tf.mul(dh, zSteps[t]!), tf.matMul(dp, savedU, false, true));
        }
        const dpAll = tf.reshape(tf.stack(dRecurrent), [steps * batch, 3 * units]);
        const dU = tf.matMul(tf.reshape(hPrev, [steps * batch, units]), dpAll, true, false);
        const dbU = tf.sum(dpAll, 0);
        const dx = tf.transpose(tf.concat([tf.stack(dGatePre), tf.stack(dCandidatePre)], 2), [1, 0, 2]);
        return [dx, dU, dbU, carry ?? tf.zerosLike(hInit)];
      },
    };
  });
  return run(projected, recurrent, recurrentBias, h0) as tf.Tensor3D;
}
