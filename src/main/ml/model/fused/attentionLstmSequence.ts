/**
 * The attention decoder's teacher-forced recurrence (one LSTM layer) as one
 * node on the gradient tape, with backpropagation through time written out.
 *
 * Per step, from the previous state h, c (h0, c0 given), the same arithmetic
 * as `CaptionDecoder.attentionStep` and `cellStep` (recurrent.ts):
 *   e = tanh(gridProj + h·Ws)   s = e·v   α = softmax(s)   ctx = α·grid
 *   g = σ(h·wg + bg)   gc = g·ctx
 *   z = (xProj_t + gc·Wc) + h·U = [i | f | ĝ | o]
 *   c' = σ(f)·c + σ(i)·tanh(ĝ)   h' = σ(o)·tanh(c')   deep_t = h' + gc·Wo
 *
 * What the node saves over the taped reference (about 100 taped ops a step,
 * forward and backward): the forward steps are plain ops that are not taped,
 * and the three matmuls with h (U, Ws, wg) are one, as are the two with gc
 * (Wc, Wo); a backward step is about 18 ops, with every coefficient that does
 * not depend on the incoming gradient formed for all steps before the loop;
 * and the gradients of U, Ws, wg, bg, Wc, Wo, v, the grid and its projection
 * are single matmuls or reductions over all steps after the loop, where the
 * reference sums one per step (e.g. 19 adds of a [C, 4H] gradient).
 *
 * Padding: like lstmSequence.ts, the node does not hold the state on padded
 * steps. Padding only follows a row's real words, the loss gives padded
 * positions zero weight and the doubly stochastic regularizer multiplies α
 * by the mask, so nothing at or after a padded position reaches the loss:
 * the loss and every gradient are those of the masked reference; only the
 * unused outputs at padded positions differ.
 */
import * as tf from '@tensorflow/tfjs';
import { attr, matMul, runOp } from './nativeOps';

/** The attention and cell weights the recurrence reads, as the decoder's params name them. */
export interface AttentionLstmWeights {
  /** attention/stateKernel [H, A] */
  stateKernel: tf.Tensor2D;
  /** attention/score [A, 1] */
  score: tf.Tensor2D;
  /** attention/gateKernel [H, 1] */
  gateKernel: tf.Tensor2D;
  /** attention/gateBias [1] */
  gateBias: tf.Tensor1D;
  /** attention/contextKernel [C, 4H] */
  contextKernel: tf.Tensor2D;
  /** attention/outputKernel [C, H] */
  outputKernel: tf.Tensor2D;
  /** the layer's recurrent kernel [H, 4H] */
  recurrent: tf.Tensor2D;
}

export interface AttentionLstmInputs {
  /** The word part of every step's gates, bias included [B, T, 4H]. */
  xProj: tf.Tensor3D;
  /** The grid [B, L, C] and its attention projection (bias included) [B, L, A]. */
  grid: tf.Tensor3D;
  gridProj: tf.Tensor3D;
  h0: tf.Tensor2D;
  c0: tf.Tensor2D;
}

/** The deep output of every step h' + gc·Wo [B, T, H] and the attention weights [B, T, L]. */
export function attentionLstmSequence(inputs: AttentionLstmInputs, weights: AttentionLstmWeights): { deep: tf.Tensor3D; alpha: tf.Tensor3D } {
  const units = weights.recurrent.shape[0];
  const regions = inputs.grid.shape[1];
  const w = weights;
  const both = node(inputs.xProj, inputs.grid, inputs.gridProj, inputs.h0, inputs.c0, w.stateKernel, w.score, w.gateKernel, w.gateBias, w.contextKernel, w.outputKernel, w.recurrent);
  // One tape node has one output: [T, B, H + L], taken apart here.
  const [deep, alpha] = tf.split(both, [units, regions], 2) as [tf.Tensor3D, tf.Tensor3D];
  return { deep: tf.transpose(deep, [1, 0, 2]), alpha: tf.transpose(alpha, [1, 0, 2]) };
}

/** `BatchMatMulV2` with adjoint attributes: a·b, aᵀ·b or a·bᵀ per batch entry without a transposed copy. */
function batchMatMul(a: tf.Tensor, b: tf.Tensor, adjX = false, adjY = false): tf.Tensor3D {
  return runOp('BatchMatMulV2', [attr.bool('adj_x', adjX), attr.bool('adj_y', adjY), attr.float32Type()], [a, b], 1)[0] as tf.Tensor3D;
}

/** Gate columns [i | f | ĝ | o] (ours) ↔ [i | ĝ | f | o] (LSTMBlockCellGrad's order); the permutation is its own inverse. */
function swapMiddleGates(m: tf.Tensor2D): tf.Tensor2D {
  const [i, f, g, o] = tf.split(m, 4, 1);
  return tf.concat([i!, g!, f!, o!], 1) as tf.Tensor2D;
}

const SAVED = [
  'grid', 'stateKernel', 'score', 'gateKernel', 'contextKernel', 'outputKernel', 'recurrent',
  'hPrev', 'cPrev', 'c', 'i', 'f', 'o', 'ci', 'co', 'energy', 'alpha', 'context', 'gate', 'gated',
] as const;
type Saved = Record<(typeof SAVED)[number], tf.Tensor>;

function node(...all: tf.Tensor[]): tf.Tensor3D {
  const run = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const [xProj, grid, gridProj, h0, c0, ws, v, wg, bg, wc, wo, u] = args as [
      tf.Tensor3D, tf.Tensor3D, tf.Tensor3D, tf.Tensor2D, tf.Tensor2D, tf.Tensor2D, tf.Tensor2D, tf.Tensor2D, tf.Tensor1D, tf.Tensor2D, tf.Tensor2D, tf.Tensor2D,
    ];
    const save = args[12] as tf.GradSaveFunc;
    const [batch, steps, gates] = xProj.shape;
    const [, regions, attentionDim] = gridProj.shape;
    const channels = grid.shape[2];
    const units = u.shape[0];
    // Everything read from h in one matmul, everything read from gc in another.
    const fromH = tf.concat([u, ws, wg], 1) as tf.Tensor2D; // [H, 4H + A + 1]
    const fromGated = tf.concat([wc, wo], 1) as tf.Tensor2D; // [C, 5H]
    const xSteps = tf.unstack(tf.transpose(xProj, [1, 0, 2])) as tf.Tensor2D[];
    const record: Record<'hPrev' | 'cPrev' | 'c' | 'i' | 'f' | 'o' | 'ci' | 'co' | 'energy' | 'alpha' | 'context' | 'gate' | 'gated' | 'deep', tf.Tensor[]> = {
      hPrev: [], cPrev: [], c: [], i: [], f: [], o: [], ci: [], co: [], energy: [], alpha: [], context: [], gate: [], gated: [], deep: [],
    };
    let h = h0;
    let c = c0;
    for (let t = 0; t < steps; t++) {
      const [hU, stateProj, gateRaw] = tf.split(matMul(h, fromH), [gates, attentionDim, 1], 1) as [tf.Tensor2D, tf.Tensor2D, tf.Tensor2D];
      const energy = tf.tanh(tf.add(gridProj, tf.reshape(stateProj, [batch, 1, attentionDim]))) as tf.Tensor3D;
      const scores = tf.reshape(matMul(tf.reshape(energy, [batch * regions, attentionDim]) as tf.Tensor2D, v), [batch, 1, regions]);
      const alpha = tf.softmax(scores) as tf.Tensor3D; // [B, 1, L]
      const context = tf.reshape(tf.matMul(alpha, grid), [batch, channels]) as tf.Tensor2D;
      const gate = tf.sigmoid(tf.add(gateRaw, bg)) as tf.Tensor2D;
      const gated = tf.mul(gate, context) as tf.Tensor2D;
      const [intoGates, intoOutput] = tf.split(matMul(gated, fromGated), [gates, units], 1) as [tf.Tensor2D, tf.Tensor2D];
      // The reference's order of sums: (xProj + gc·Wc) + h·U.
      const z = tf.add(tf.add(xSteps[t]!, intoGates), hU);
      const [zi, zf, zg, zo] = tf.split(z, 4, 1) as tf.Tensor2D[];
      const i = tf.sigmoid(zi!);
      const f = tf.sigmoid(zf!);
      const ci = tf.tanh(zg!);
      const o = tf.sigmoid(zo!);
      const cNext = tf.add(tf.mul(f, c), tf.mul(i, ci)) as tf.Tensor2D;
      const co = tf.tanh(cNext);
      const hNext = tf.mul(o, co) as tf.Tensor2D;
      record.hPrev.push(h);
      record.cPrev.push(c);
      record.c.push(cNext);
      record.i.push(i);
      record.f.push(f);
      record.o.push(o);
      record.ci.push(ci);
      record.co.push(co);
      record.energy.push(energy);
      record.alpha.push(alpha);
      record.context.push(context);
      record.gate.push(gate);
      record.gated.push(gated);
      record.deep.push(tf.add(hNext, intoOutput));
      h = hNext;
      c = cNext;
    }
    const stacked = (name: keyof typeof record) => tf.stack(record[name]); // time-major [T, ...]
    const alphaAll = tf.reshape(stacked('alpha'), [steps, batch, regions]);
    const saved: Saved = {
      grid, stateKernel: ws, score: v, gateKernel: wg, contextKernel: wc, outputKernel: wo, recurrent: u,
      hPrev: stacked('hPrev'), cPrev: stacked('cPrev'), c: stacked('c'), i: stacked('i'), f: stacked('f'), o: stacked('o'),
      ci: stacked('ci'), co: stacked('co'), energy: stacked('energy'), alpha: alphaAll, context: stacked('context'),
      gate: stacked('gate'), gated: stacked('gated'),
    };
    save(SAVED.map((name) => saved[name]));
    return {
      value: tf.concat([stacked('deep'), alphaAll], 2) as tf.Tensor3D,
      gradFunc: (dy: tf.Tensor3D, tensors: tf.Tensor[]) =>
        backward(dy, Object.fromEntries(SAVED.map((name, k) => [name, tensors[k]!])) as Saved),
    };
  });
  return run(...all) as tf.Tensor3D;
}

/**
 * Backpropagation through time. With dh the gradient of a step's h' (its
 * deep output's gradient plus what the next step passes back) and dc the
 * cell state's:
 *   dz             from LSTMBlockCellGrad (elementwise, no matmul)
 *   d(gc)          = [dz | d deep]·[Wc | Wo]ᵀ
 *   dctx = g·d(gc)   d(g pre) = Σ d(gc)·ctx·g(1 − g)
 *   dα             = dctx·gridᵀ + (the α output's gradient)
 *   ds             = α·(dα − Σ dα·α)          (softmax)
 *   d(e pre)       = ds ⊗ K, K = v·(1 − e²)    (formed for all steps at once)
 *   d(h·Ws)        = Σ_l d(e pre)
 *   dh_prev        = [dz | d(h·Ws) | d(g pre)]·[U | Ws | wg]ᵀ
 * The weight gradients, the grid's (Σ_t α_tᵀ·dctx_t, one batched matmul)
 * and the grid projection's (Σ_t d(e pre)) are formed after the loop.
 */
function backward(dy: tf.Tensor3D, s: Saved): tf.Tensor[] {
  const [steps, batch, units] = s.hPrev.shape as [number, number, number];
  const [, regions, channels] = s.grid.shape as [number, number, number];
  const attentionDim = s.stateKernel.shape[1]!;
  const gates = 4 * units;
  const [dDeep, dAlphaOut] = tf.split(dy, [units, regions], 2) as [tf.Tensor3D, tf.Tensor3D];
  const dDeepSteps = tf.unstack(dDeep) as tf.Tensor2D[];
  const dAlphaOutSteps = tf.unstack(tf.reshape(dAlphaOut, [steps, batch, 1, regions]));
  // Coefficients that do not depend on the incoming gradient, for all steps at once.
  const energyAll = s.energy as tf.Tensor4D; // [T, B, L, A]
  const k = tf.mul(tf.sub(1, tf.square(energyAll)), tf.reshape(s.score, [attentionDim])) as tf.Tensor4D;
  const kSteps = tf.unstack(k);
  const gate = s.gate as tf.Tensor3D; // [T, B, 1]
  const contextCoefficient = tf.unstack(tf.mul(s.context, tf.mul(gate, tf.sub(1, gate)))) as tf.Tensor2D[];
  const gateSteps = tf.unstack(gate) as tf.Tensor2D[];
  const alphaSteps = tf.unstack(tf.reshape(s.alpha, [steps, batch, 1, regions]));
  const [hPrevSteps, cPrevSteps, cSteps, iSteps, fSteps, oSteps, ciSteps, coSteps] = [s.hPrev, s.cPrev, s.c, s.i, s.f, s.o, s.ci, s.co].map((x) =>
    tf.unstack(x),
  ) as tf.Tensor2D[][];
  const recurrent = s.recurrent as tf.Tensor2D;
  const intoGated = tf.concat([swapMiddleGates(s.contextKernel as tf.Tensor2D), s.outputKernel], 1) as tf.Tensor2D; // [C, 5H]
  const intoH = tf.concat([swapMiddleGates(recurrent), s.stateKernel, s.gateKernel], 1) as tf.Tensor2D; // [H, 4H + A + 1]
  // LSTMBlockCellGrad reads x and w only for their shapes (no peepholes here); a one-column x and zero w of the matching shape.
  const shapeOnlyX = gateSteps[0]!;
  const shapeOnlyW = tf.zeros([1 + units, gates]);
  const noPeephole = tf.zeros([units]);
  const noBias = tf.zeros([gates]);
  const grid = s.grid as tf.Tensor3D;
  const dqs: tf.Tensor2D[] = new Array<tf.Tensor2D>(steps); // [dz (i|ĝ|f|o) | d(h·Ws) | d(g pre)] per step
  const dss: tf.Tensor[] = new Array<tf.Tensor>(steps); // ds [B, 1, L]
  const dContexts: tf.Tensor2D[] = new Array<tf.Tensor2D>(steps);
  let dhCarry: tf.Tensor2D | null = null;
  let dcCarry: tf.Tensor = tf.zeros([batch, units]);
  for (let t = steps - 1; t >= 0; t--) {
    const dh: tf.Tensor2D = dhCarry ? (tf.add(dDeepSteps[t]!, dhCarry) as tf.Tensor2D) : dDeepSteps[t]!;
    const [dcPrev, dz] = runOp(
      'LSTMBlockCellGrad',
      [attr.bool('use_peephole', false), attr.float32Type()],
      [shapeOnlyX, cPrevSteps![t]!, hPrevSteps![t]!, shapeOnlyW, noPeephole, noPeephole, noPeephole, noBias, iSteps![t]!, cSteps![t]!, fSteps![t]!, oSteps![t]!, ciSteps![t]!, coSteps![t]!, dcCarry, dh],
      5,
    ) as [tf.Tensor2D, tf.Tensor2D];
    const dGated = matMul(tf.concat([dz, dDeepSteps[t]!], 1) as tf.Tensor2D, intoGated, false, true); // [B, C]
    const dContext = tf.mul(dGated, gateSteps[t]!) as tf.Tensor2D;
    const dGatePre = tf.sum(tf.mul(dGated, contextCoefficient[t]!), 1, true) as tf.Tensor2D;
    const dAlpha = tf.add(batchMatMul(tf.reshape(dContext, [batch, 1, channels]), grid, false, true), dAlphaOutSteps[t]!);
    const alpha = alphaSteps[t]!;
    const ds = tf.mul(alpha, tf.sub(dAlpha, tf.sum(tf.mul(dAlpha, alpha), 2, true)));
    const dStateProj = tf.reshape(batchMatMul(ds, kSteps[t]!), [batch, attentionDim]);
    const dq = tf.concat([dz, dStateProj, dGatePre], 1) as tf.Tensor2D;
    dqs[t] = dq;
    dss[t] = ds;
    dContexts[t] = dContext;
    dcCarry = dcPrev;
    dhCarry = matMul(dq, intoH, false, true);
  }
  const rows = steps * batch;
  const [di, dg, df, dout, dStateProjAll, dGatePreAll] = tf.split(tf.reshape(tf.stack(dqs), [rows, gates + attentionDim + 1]), [units, units, units, units, attentionDim, 1], 1);
  const dzAll = tf.concat([di!, df!, dg!, dout!], 1) as tf.Tensor2D; // our gate order
  const dFromH = matMul(tf.reshape(s.hPrev, [rows, units]) as tf.Tensor2D, tf.concat([dzAll, dStateProjAll!, dGatePreAll!], 1) as tf.Tensor2D, true, false);
  const [dRecurrent, dStateKernel, dGateKernel] = tf.split(dFromH, [gates, attentionDim, 1], 1);
  const dGateBias = tf.sum(dGatePreAll!, 0);
  const gatedAll = tf.reshape(s.gated, [rows, channels]) as tf.Tensor2D;
  const dContextKernel = matMul(gatedAll, dzAll, true, false);
  const dOutputKernel = matMul(gatedAll, tf.reshape(dDeep, [rows, units]) as tf.Tensor2D, true, false);
  const dsAll = tf.stack(dss); // [T, B, 1, L]
  const dScore = matMul(tf.reshape(energyAll, [rows * regions, attentionDim]) as tf.Tensor2D, tf.reshape(dsAll, [rows * regions, 1]) as tf.Tensor2D, true, false);
  const dGridProj = tf.sum(tf.mul(tf.reshape(dsAll, [steps, batch, regions, 1]), k), 0);
  // Σ_t α_tᵀ·dctx_t per row: one batched matmul over [B, T, L] and [B, T, C].
  const dGrid = batchMatMul(tf.transpose(s.alpha, [1, 0, 2]), tf.stack(dContexts, 1), true, false);
  const dxProj = tf.transpose(tf.reshape(dzAll, [steps, batch, gates]), [1, 0, 2]);
  return [dxProj, dGrid, dGridProj, dhCarry ?? tf.zeros([batch, units]), dcCarry, dStateKernel!, dScore, dGateKernel!, dGateBias, dContextKernel, dOutputKernel, dRecurrent!];
}
