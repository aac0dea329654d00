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
import { RawOps } from './rawOps';

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
function swapMiddleGates(ops: RawOps, m: tf.Tensor2D): tf.Tensor2D {
  const units = m.shape[1] / 4;
  const [i, f, g, o] = ops.split(m, [units, units, units, units], 1);
  return ops.concat([i!, g!, f!, o!], 1);
}

const SAVED = [
  'grid', 'stateKernel', 'score', 'gateKernel', 'contextKernel', 'outputKernel', 'recurrent',
  'hPrev', 'cPrev', 'c', 'i', 'f', 'o', 'ci', 'co', 'energy', 'alpha', 'context', 'gate', 'gated',
] as const;
type Saved = Record<(typeof SAVED)[number], tf.Tensor>;
type Recorded = Exclude<(typeof SAVED)[number], 'grid' | 'stateKernel' | 'score' | 'gateKernel' | 'contextKernel' | 'outputKernel' | 'recurrent'>;

function node(...all: tf.Tensor[]): tf.Tensor3D {
  const run = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const [xProj, grid, gridProj, h0, c0, ws, v, wg, bg, wc, wo, u] = args as [
      tf.Tensor3D, tf.Tensor3D, tf.Tensor3D, tf.Tensor2D, tf.Tensor2D, tf.Tensor2D, tf.Tensor2D, tf.Tensor2D, tf.Tensor1D, tf.Tensor2D, tf.Tensor2D, tf.Tensor2D,
    ];
    const save = args[12] as tf.GradSaveFunc;
    const ops = new RawOps();
    const [batch, steps, gates] = xProj.shape;
    const [, regions, attentionDim] = gridProj.shape;
    const channels = grid.shape[2];
    const units = u.shape[0];
    // Everything read from h in one matmul, everything read from gc in another.
    const fromH = ops.concat<tf.Tensor2D>([u, ws, wg], 1); // [H, 4H + A + 1]
    const fromGated = ops.concat<tf.Tensor2D>([wc, wo], 1); // [C, 5H]
    const xSteps = ops.unstack<tf.Tensor2D>(xProj, 1);
    const record = Object.fromEntries([...SAVED.slice(7), 'deep'].map((name) => [name, [] as tf.Tensor[]])) as Record<Recorded | 'deep', tf.Tensor[]>;
    let h = h0;
    let c = c0;
    for (let t = 0; t < steps; t++) {
      const [hU, stateProj, gateRaw] = ops.split<tf.Tensor2D>(matMul(h, fromH), [gates, attentionDim, 1], 1);
      const energy = ops.tanh(ops.add<tf.Tensor3D>(gridProj, ops.reshape(stateProj!, [batch, 1, attentionDim])));
      const scores = ops.reshape(matMul(ops.reshape(energy, [batch * regions, attentionDim]), v), [batch, 1, regions]);
      const alpha = ops.softmax(scores); // [B, 1, L]
      const context = ops.reshape<tf.Tensor2D>(batchMatMul(alpha, grid), [batch, channels]);
      const gate = ops.sigmoid(ops.add<tf.Tensor2D>(gateRaw!, bg));
      const gated = ops.mul<tf.Tensor2D>(gate, context);
      const [intoGates, intoOutput] = ops.split<tf.Tensor2D>(matMul(gated, fromGated), [gates, units], 1);
      // The reference's order of sums: (xProj + gc·Wc) + h·U.
      const z = ops.add(ops.add(xSteps[t]!, intoGates!), hU!);
      const [zi, zf, zg, zo] = ops.split<tf.Tensor2D>(z, [units, units, units, units], 1);
      const i = ops.sigmoid(zi!);
      const f = ops.sigmoid(zf!);
      const ci = ops.tanh(zg!);
      const o = ops.sigmoid(zo!);
      const cNext = ops.add<tf.Tensor2D>(ops.mul(f, c), ops.mul(i, ci));
      const co = ops.tanh(cNext);
      const hNext = ops.mul<tf.Tensor2D>(o, co);
      const step: Record<Recorded, tf.Tensor> = { hPrev: h, cPrev: c, c: cNext, i, f, o, ci, co, energy, alpha, context, gate, gated };
      for (const name of SAVED.slice(7) as readonly Recorded[]) record[name].push(step[name]);
      record.deep.push(ops.add(hNext, intoOutput!));
      h = hNext;
      c = cNext;
    }
    const stacked = (name: Recorded | 'deep') => ops.stack(record[name]); // time-major [T, ...]
    const alphaAll = ops.reshape(stacked('alpha'), [steps, batch, regions]);
    const weights = { grid, stateKernel: ws, score: v, gateKernel: wg, contextKernel: wc, outputKernel: wo, recurrent: u };
    save(SAVED.map((name) => (name in weights ? weights[name as keyof typeof weights] : name === 'alpha' ? alphaAll : stacked(name as Recorded))));
    return {
      value: ops.concat<tf.Tensor3D>([stacked('deep'), alphaAll], 2),
      gradFunc: (dy: tf.Tensor3D, tensors: tf.Tensor[]) => backward(dy, Object.fromEntries(SAVED.map((name, k) => [name, tensors[k]!])) as Saved),
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
 *   d(e pre)       = ds ⊗ k, k = v·(1 − e²)    (k formed for all steps at once)
 *   d(h·Ws)        = Σ_l d(e pre)
 *   dh_prev        = [dz | d(h·Ws) | d(g pre)]·[U | Ws | wg]ᵀ
 * The weight gradients, the grid's (Σ_t α_tᵀ·dctx_t, one batched matmul)
 * and the grid projection's (Σ_t d(e pre)) are formed after the loop.
 */
function backward(dy: tf.Tensor3D, s: Saved): tf.Tensor[] {
  const ops = new RawOps();
  const [steps, batch, units] = s.hPrev.shape as [number, number, number];
  const [, regions, channels] = s.grid.shape as [number, number, number];
  const attentionDim = s.stateKernel.shape[1]!;
  const gates = 4 * units;
  const [dDeep, dAlphaOut] = ops.split<tf.Tensor3D>(dy, [units, regions], 2);
  const dDeepSteps = ops.unstack<tf.Tensor2D>(dDeep!);
  const dAlphaOutSteps = ops.unstack(ops.reshape(dAlphaOut!, [steps, batch, 1, regions]));
  // Coefficients that do not depend on the incoming gradient, for all steps at once.
  const k = ops.mul<tf.Tensor4D>(ops.sub(tf.scalar(1), ops.mul(s.energy, s.energy)), ops.reshape(s.score, [attentionDim])); // [T, B, L, A]
  const kSteps = ops.unstack(k);
  const gate = s.gate; // [T, B, 1]
  const contextCoefficient = ops.unstack<tf.Tensor2D>(ops.mul(s.context, ops.mul(gate, ops.sub(tf.scalar(1), gate))));
  const gateSteps = ops.unstack<tf.Tensor2D>(gate);
  const alphaSteps = ops.unstack(ops.reshape(s.alpha, [steps, batch, 1, regions]));
  const [hPrevSteps, cPrevSteps, cSteps, iSteps, fSteps, oSteps, ciSteps, coSteps] = [s.hPrev, s.cPrev, s.c, s.i, s.f, s.o, s.ci, s.co].map((x) =>
    ops.unstack<tf.Tensor2D>(x),
  );
  const intoGated = ops.concat<tf.Tensor2D>([swapMiddleGates(ops, s.contextKernel as tf.Tensor2D), s.outputKernel], 1); // [C, 5H]
  const intoH = ops.concat<tf.Tensor2D>([swapMiddleGates(ops, s.recurrent as tf.Tensor2D), s.stateKernel, s.gateKernel], 1); // [H, 4H + A + 1]
  // LSTMBlockCellGrad reads x and w only for their shapes (no peepholes here): a one-column x and a zero w of the matching shape.
  const shapeOnlyX = gateSteps[0]!;
  const shapeOnlyW = tf.zeros([1 + units, gates]);
  const noPeephole = tf.zeros([units]);
  const noBias = tf.zeros([gates]);
  const cellGradAttrs = [attr.bool('use_peephole', false), attr.float32Type()];
  const grid = s.grid as tf.Tensor3D;
  const dqs: tf.Tensor2D[] = new Array<tf.Tensor2D>(steps); // [dz (i|ĝ|f|o) | d(h·Ws) | d(g pre)] per step
  const dss: tf.Tensor[] = new Array<tf.Tensor>(steps); // ds [B, 1, L]
  const dContexts: tf.Tensor2D[] = new Array<tf.Tensor2D>(steps);
  let dhCarry: tf.Tensor2D | null = null;
  let dcCarry: tf.Tensor = tf.zeros([batch, units]);
  for (let t = steps - 1; t >= 0; t--) {
    const dh: tf.Tensor2D = dhCarry ? ops.add<tf.Tensor2D>(dDeepSteps[t]!, dhCarry) : dDeepSteps[t]!;
    const [dcPrev, dz] = runOp(
      'LSTMBlockCellGrad',
      cellGradAttrs,
      [shapeOnlyX, cPrevSteps![t]!, hPrevSteps![t]!, shapeOnlyW, noPeephole, noPeephole, noPeephole, noBias, iSteps![t]!, cSteps![t]!, fSteps![t]!, oSteps![t]!, ciSteps![t]!, coSteps![t]!, dcCarry, dh],
      5,
    ) as [tf.Tensor2D, tf.Tensor2D];
    const dGated = matMul(ops.concat([dz, dDeepSteps[t]!], 1), intoGated, false, true); // [B, C]
    const dContext = ops.mul<tf.Tensor2D>(dGated, gateSteps[t]!);
    const dGatePre = ops.sum<tf.Tensor2D>(ops.mul(dGated, contextCoefficient[t]!), 1, true);
    const dAlpha = ops.add(batchMatMul(ops.reshape(dContext, [batch, 1, channels]), grid, false, true), dAlphaOutSteps[t]!);
    const alpha = alphaSteps[t]!;
    const ds = ops.mul(alpha, ops.sub(dAlpha, batchMatMul(dAlpha, alpha, false, true))); // Σ dα·α as a [B, 1, 1] matmul
    const dStateProj = ops.reshape(batchMatMul(ds, kSteps[t]!), [batch, attentionDim]);
    const dq = ops.concat<tf.Tensor2D>([dz, dStateProj, dGatePre], 1);
    dqs[t] = dq;
    dss[t] = ds;
    dContexts[t] = dContext;
    dcCarry = dcPrev;
    dhCarry = matMul(dq, intoH, false, true);
  }
  const rows = steps * batch;
  const [di, dg, df, dout, dStateProjAll, dGatePreAll] = ops.split<tf.Tensor2D>(ops.reshape(ops.stack(dqs), [rows, gates + attentionDim + 1]), [units, units, units, units, attentionDim, 1], 1);
  const dzAll = ops.concat<tf.Tensor2D>([di!, df!, dg!, dout!], 1); // our gate order
  const dFromH = matMul(ops.reshape(s.hPrev, [rows, units]), ops.concat([dzAll, dStateProjAll!, dGatePreAll!], 1), true, false);
  const [dRecurrent, dStateKernel, dGateKernel] = ops.split(dFromH, [gates, attentionDim, 1], 1);
  const dGateBias = ops.sum(dGatePreAll!, 0, false);
  const gatedAll = ops.reshape<tf.Tensor2D>(s.gated, [rows, channels]);
  const dContextKernel = matMul(gatedAll, dzAll, true, false);
  const dOutputKernel = matMul(gatedAll, ops.reshape(dDeep!, [rows, units]), true, false);
  const dsAll = ops.stack(dss); // [T, B, 1, L]
  const dScore = matMul(ops.reshape(s.energy, [rows * regions, attentionDim]), ops.reshape(dsAll, [rows * regions, 1]), true, false);
  const dGridProj = ops.sum(ops.mul(ops.reshape(dsAll, [steps, batch, regions, 1]), k), 0, false);
  // Σ_t α_tᵀ·dctx_t per row: one batched matmul over [B, T, L] and [B, T, C].
  const dGrid = batchMatMul(ops.transpose(s.alpha, [1, 0, 2]), ops.stack(dContexts, 1), true, false);
  const dxProj = ops.transpose(ops.reshape(dzAll, [steps, batch, gates]), [1, 0, 2]);
  return [dxProj, dGrid, dGridProj, dhCarry ?? tf.zeros([batch, units]), dcCarry, dStateKernel!, dScore, dGateKernel!, dGateBias, dContextKernel, dOutputKernel, dRecurrent!];
}
