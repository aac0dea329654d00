/**
 * The attention decoder's teacher-forced recurrence (one LSTM layer) as one
 * node on the gradient tape, with backpropagation through time written out.
 *
 * Per step, from the previous state h, c (h0, c0 given), the same arithmetic
 * as `CaptionDecoder.attentionStep` and `cellStep` (recurrent.ts):
 *   e = tanh(gridProj + h·Ws [+ queryProj_t] [+ cov_t ⊗ wcov])   s = e·v   α = softmax(s)   ctx = α·grid
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
import { CoverageTrack, savedCoverage, type CoverageSaved } from './attentionCoverage';
import { ATTENTION_SAVED, AttentionBackward, attendStep, finishSequence, splitSequenceOutput, type AttentionSaved, type AttentionStep } from './attentionParts';
import { optionalGradients, optionalInputs, readOptionalInputs, type OptionalInputs } from './optionalInputs';
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
  /** `decoder.attentionCoverage`: attention/coverageKernel [1, A], how the attention each cell has had joins its energy. */
  coverageKernel?: tf.Tensor2D | undefined;
}

export interface AttentionLstmInputs {
  /** The word part of every step's gates, bias included [B, T, 4H]. */
  xProj: tf.Tensor3D;
  /** The grid [B, L, C] and its attention projection (bias included) [B, L, A]. */
  grid: tf.Tensor3D;
  gridProj: tf.Tensor3D;
  h0: tf.Tensor2D;
  c0: tf.Tensor2D;
  /** `decoder.attentionWordQuery`: each step's word part of the attention query [B, T, A]; its gradient is that of h·Ws. */
  queryProj?: tf.Tensor3D | undefined;
}

/** The deep output of every step h' + gc·Wo [B, T, H] and the attention weights [B, T, L]. */
export function attentionLstmSequence(inputs: AttentionLstmInputs, weights: AttentionLstmWeights): { deep: tf.Tensor3D; alpha: tf.Tensor3D } {
  const units = weights.recurrent.shape[0];
  const regions = inputs.grid.shape[1];
  const w = weights;
  const all = [inputs.xProj, inputs.grid, inputs.gridProj, inputs.h0, inputs.c0, w.stateKernel, w.score, w.gateKernel, w.gateBias, w.contextKernel, w.outputKernel, w.recurrent];
  const optional = optionalInputs(inputs.queryProj, w.coverageKernel);
  const both = node(optional.layout, [...all, ...optional.tensors]);
  return splitSequenceOutput(both, units, regions);
}

/** Gate columns [i | f | ĝ | o] (ours) ↔ [i | ĝ | f | o] (LSTMBlockCellGrad's order); the permutation is its own inverse. */
function swapMiddleGates(ops: RawOps, m: tf.Tensor2D): tf.Tensor2D {
  const units = m.shape[1] / 4;
  const [i, f, g, o] = ops.split(m, [units, units, units, units], 1);
  return ops.concat([i!, g!, f!, o!], 1);
}

const CELL_SAVED = ['stateKernel', 'gateKernel', 'contextKernel', 'outputKernel', 'recurrent', 'gated', 'hPrev', 'cPrev', 'c', 'i', 'f', 'o', 'ci', 'co'] as const;
const SAVED = [...ATTENTION_SAVED, ...CELL_SAVED];
type Saved = AttentionSaved & Record<(typeof CELL_SAVED)[number], tf.Tensor> & Partial<CoverageSaved>;
type CellRecorded = 'hPrev' | 'cPrev' | 'c' | 'i' | 'f' | 'o' | 'ci' | 'co';
const CELL_RECORDED: readonly CellRecorded[] = ['hPrev', 'cPrev', 'c', 'i', 'f', 'o', 'ci', 'co'];

function node(layout: OptionalInputs, all: tf.Tensor[]): tf.Tensor3D {
  const run = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const [xProj, grid, gridProj, h0, c0, ws, v, wg, bg, wc, wo, u] = args as [
      tf.Tensor3D, tf.Tensor3D, tf.Tensor3D, tf.Tensor2D, tf.Tensor2D, tf.Tensor2D, tf.Tensor2D, tf.Tensor2D, tf.Tensor1D, tf.Tensor2D, tf.Tensor2D, tf.Tensor2D,
    ];
    const ops = new RawOps();
    const { queryProj, coverageKernel, save } = readOptionalInputs(args, 12, layout);
    const coverage = new CoverageTrack(ops, coverageKernel, xProj.shape[0], gridProj.shape[1]);
    const querySteps = queryProj ? ops.unstack<tf.Tensor2D>(queryProj, 1) : null;
    const [, steps, gates] = xProj.shape;
    const attentionDim = gridProj.shape[2];
    const units = u.shape[0];
    // Everything read from h in one matmul, everything read from gc in another.
    const fromH = ops.concat<tf.Tensor2D>([u, ws, wg], 1); // [H, 4H + A + 1]
    const fromGated = ops.concat<tf.Tensor2D>([wc, wo], 1); // [C, 5H]
    const xSteps = ops.unstack<tf.Tensor2D>(xProj, 1);
    const attention: AttentionStep[] = [];
    const cell = Object.fromEntries(CELL_RECORDED.map((name) => [name, [] as tf.Tensor[]])) as Record<CellRecorded, tf.Tensor[]>;
    const deep: tf.Tensor[] = [];
    let h = h0;
    let c = c0;
    for (let t = 0; t < steps; t++) {
      const [hU, stateProj, gateRaw] = ops.split<tf.Tensor2D>(matMul(h, fromH), [gates, attentionDim, 1], 1);
      const query = querySteps ? ops.add<tf.Tensor2D>(stateProj!, querySteps[t]!) : stateProj!;
      const step = attendStep(ops, query, gateRaw!, { grid, gridProj, score: v, gateBias: bg }, coverage.forStep());
      coverage.after(step);
      const [intoGates, intoOutput] = ops.split<tf.Tensor2D>(matMul(step.gated, fromGated), [gates, units], 1);
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
      const recorded: Record<CellRecorded, tf.Tensor> = { hPrev: h, cPrev: c, c: cNext, i, f, o, ci, co };
      for (const name of CELL_RECORDED) cell[name].push(recorded[name]);
      attention.push(step);
      deep.push(ops.add(hNext, intoOutput!));
      h = hNext;
      c = cNext;
    }
    const covered = coverage.saved();
    return finishSequence<Saved>(
      ops,
      [...SAVED, ...covered.names],
      { attention, grid, score: v, weights: { stateKernel: ws, gateKernel: wg, contextKernel: wc, outputKernel: wo, recurrent: u, ...covered.weights }, recorded: { ...cell, ...covered.recorded }, deep },
      save,
      (dy, saved) => backward(dy, saved, layout),
    );
  });
  return run(...all) as tf.Tensor3D;
}

/**
 * Backpropagation through time. With dh the gradient of a step's h' (its
 * deep output's gradient plus what the next step passes back) and dc the
 * cell state's:
 *   dz        from LSTMBlockCellGrad (elementwise, no matmul)
 *   d(gc)     = [dz | d deep]·[Wc | Wo]ᵀ, then the attention (attentionParts.ts)
 *   dh_prev   = [dz | d(h·Ws) | d(g pre)]·[U | Ws | wg]ᵀ
 * The weight gradients are single matmuls over all steps after the loop.
 */
function backward(dy: tf.Tensor3D, s: Saved, layout: OptionalInputs): tf.Tensor[] {
  const ops = new RawOps();
  const [steps, batch, units] = s.hPrev.shape as [number, number, number];
  const [, regions, channels] = s.grid.shape as [number, number, number];
  const attentionDim = s.stateKernel.shape[1]!;
  const gates = 4 * units;
  const [dDeep, dAlphaOut] = ops.split<tf.Tensor3D>(dy, [units, regions], 2);
  const dDeepSteps = ops.unstack<tf.Tensor2D>(dDeep!);
  const attention = new AttentionBackward(ops, s, dAlphaOut!, savedCoverage(s));
  const [hPrevSteps, cPrevSteps, cSteps, iSteps, fSteps, oSteps, ciSteps, coSteps] = CELL_RECORDED.map((name) => ops.unstack<tf.Tensor2D>(s[name]));
  const intoGated = ops.concat<tf.Tensor2D>([swapMiddleGates(ops, s.contextKernel as tf.Tensor2D), s.outputKernel], 1); // [C, 5H]
  const intoH = ops.concat<tf.Tensor2D>([swapMiddleGates(ops, s.recurrent as tf.Tensor2D), s.stateKernel, s.gateKernel], 1); // [H, 4H + A + 1]
  // LSTMBlockCellGrad reads x and w only for their shapes (no peepholes here): a one-column x and a zero w of the matching shape.
  const shapeOnlyX = tf.zeros([batch, 1]);
  const shapeOnlyW = tf.zeros([1 + units, gates]);
  const noPeephole = tf.zeros([units]);
  const noBias = tf.zeros([gates]);
  const cellGradAttrs = [attr.bool('use_peephole', false), attr.float32Type()];
  const dqs: tf.Tensor2D[] = new Array<tf.Tensor2D>(steps); // [dz (i|ĝ|f|o) | d(h·Ws) | d(g pre)] per step
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
    const { dStateProj, dGatePre } = attention.step(t, matMul(ops.concat([dz, dDeepSteps[t]!], 1), intoGated, false, true));
    const dq = ops.concat<tf.Tensor2D>([dz, dStateProj, dGatePre], 1);
    dqs[t] = dq;
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
  const { dScore, dGridProj, dGrid, dCoverageKernel } = attention.finish();
  const dxProj = ops.transpose(ops.reshape(dzAll, [steps, batch, gates]), [1, 0, 2]);
  const grads = [dxProj, dGrid, dGridProj, dhCarry ?? tf.zeros([batch, units]), dcCarry, dStateKernel!, dScore, dGateKernel!, dGateBias, dContextKernel, dOutputKernel, dRecurrent!];
  return [...grads, ...optionalGradients(ops, layout, dStateProjAll!, { steps, batch, attentionDim }, dCoverageKernel)];
}
