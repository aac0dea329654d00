/**
 * The attention decoder's teacher-forced recurrence with one GRU layer as
 * one node on the gradient tape: attentionLstmSequence.ts with the GRU of
 * recurrent.ts (reset gate after the recurrent matmul) as the cell, and the
 * GRU's backward pass as gruSequence.ts writes it out.
 *
 * Per step, from the previous h (h0 given):
 *   attention as attentionParts.ts: e, α, ctx, g, gc from h·Ws (plus the
 *   step's word query, and the coverage, when given) and h·wg
 *   x = xProj_t + gc·Wc = [xz | xr | xn]   p = h·U + b_U = [hz | hr | hn]
 *   z = σ(xz + hz)   r = σ(xr + hr)   n = tanh(xn + r·hn)   h' = n + z·(h − n)
 *   deep_t = h' + gc·Wo
 * The matmuls with h (U, Ws, wg) are one, as are those with gc (Wc, Wo).
 * Padding is not held; see attentionLstmSequence.ts for why that is exact.
 */
import * as tf from '@tensorflow/tfjs';
import { CoverageTrack, savedCoverage, type CoverageSaved } from './attentionCoverage';
import { ATTENTION_SAVED, AttentionBackward, attendStep, finishSequence, splitSequenceOutput, type AttentionSaved, type AttentionStep } from './attentionParts';
import { optionalGradients, optionalInputs, readOptionalInputs, type OptionalInputs } from './optionalInputs';
import { matMul } from './nativeOps';
import { RawOps } from './rawOps';

/** The attention and cell weights the recurrence reads, as the decoder's params name them. */
export interface AttentionGruWeights {
  /** attention/stateKernel [H, A] */
  stateKernel: tf.Tensor2D;
  /** attention/score [A, 1] */
  score: tf.Tensor2D;
  /** attention/gateKernel [H, 1] */
  gateKernel: tf.Tensor2D;
  /** attention/gateBias [1] */
  gateBias: tf.Tensor1D;
  /** attention/contextKernel [C, 3H] */
  contextKernel: tf.Tensor2D;
  /** attention/outputKernel [C, H] */
  outputKernel: tf.Tensor2D;
  /** the layer's recurrent kernel [H, 3H] and recurrent bias [3H] */
  recurrent: tf.Tensor2D;
  recurrentBias: tf.Tensor1D;
  /** `decoder.attentionCoverage`: attention/coverageKernel [1, A], how the attention each cell has had joins its energy. */
  coverageKernel?: tf.Tensor2D | undefined;
}

export interface AttentionGruInputs {
  /** The word part of every step's gates, bias included [B, T, 3H]. */
  xProj: tf.Tensor3D;
  /** The grid [B, L, C] and its attention projection (bias included) [B, L, A]. */
  grid: tf.Tensor3D;
  gridProj: tf.Tensor3D;
  h0: tf.Tensor2D;
  /** `decoder.attentionWordQuery`: each step's word part of the attention query [B, T, A]; its gradient is that of h·Ws. */
  queryProj?: tf.Tensor3D | undefined;
}

/** The deep output of every step h' + gc·Wo [B, T, H] and the attention weights [B, T, L]. */
export function attentionGruSequence(inputs: AttentionGruInputs, weights: AttentionGruWeights): { deep: tf.Tensor3D; alpha: tf.Tensor3D } {
  const units = weights.recurrent.shape[0];
  const regions = inputs.grid.shape[1];
  const w = weights;
  const all = [inputs.xProj, inputs.grid, inputs.gridProj, inputs.h0, w.stateKernel, w.score, w.gateKernel, w.gateBias, w.contextKernel, w.outputKernel, w.recurrent, w.recurrentBias];
  const optional = optionalInputs(inputs.queryProj, w.coverageKernel);
  const both = node(optional.layout, [...all, ...optional.tensors]);
  return splitSequenceOutput(both, units, regions);
}

const CELL_SAVED = ['stateKernel', 'gateKernel', 'contextKernel', 'outputKernel', 'recurrent', 'gated', 'hPrev', 'zr', 'n', 'pn'] as const;
const SAVED = [...ATTENTION_SAVED, ...CELL_SAVED];
type Saved = AttentionSaved & Record<(typeof CELL_SAVED)[number], tf.Tensor> & Partial<CoverageSaved>;
type CellRecorded = 'hPrev' | 'zr' | 'n' | 'pn';
const CELL_RECORDED: readonly CellRecorded[] = ['hPrev', 'zr', 'n', 'pn'];

function node(layout: OptionalInputs, all: tf.Tensor[]): tf.Tensor3D {
  const run = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const [xProj, grid, gridProj, h0, ws, v, wg, bg, wc, wo, u, bu] = args as [
      tf.Tensor3D, tf.Tensor3D, tf.Tensor3D, tf.Tensor2D, tf.Tensor2D, tf.Tensor2D, tf.Tensor2D, tf.Tensor1D, tf.Tensor2D, tf.Tensor2D, tf.Tensor2D, tf.Tensor1D,
    ];
    const ops = new RawOps();
    const { queryProj, coverageKernel, save } = readOptionalInputs(args, 12, layout);
    const coverage = new CoverageTrack(ops, coverageKernel, xProj.shape[0], gridProj.shape[1]);
    const querySteps = queryProj ? ops.unstack<tf.Tensor2D>(queryProj, 1) : null;
    const [, steps, gates] = xProj.shape;
    const attentionDim = gridProj.shape[2];
    const units = u.shape[0];
    const fromH = ops.concat<tf.Tensor2D>([u, ws, wg], 1); // [H, 3H + A + 1]
    const fromGated = ops.concat<tf.Tensor2D>([wc, wo], 1); // [C, 4H]
    const xSteps = ops.unstack<tf.Tensor2D>(xProj, 1);
    const attention: AttentionStep[] = [];
    const cell = Object.fromEntries(CELL_RECORDED.map((name) => [name, [] as tf.Tensor[]])) as Record<CellRecorded, tf.Tensor[]>;
    const deep: tf.Tensor[] = [];
    let h = h0;
    for (let t = 0; t < steps; t++) {
      const [hU, stateProj, gateRaw] = ops.split<tf.Tensor2D>(matMul(h, fromH), [gates, attentionDim, 1], 1);
      const query = querySteps ? ops.add<tf.Tensor2D>(stateProj!, querySteps[t]!) : stateProj!;
      const step = attendStep(ops, query, gateRaw!, { grid, gridProj, score: v, gateBias: bg }, coverage.forStep());
      coverage.after(step);
      const [intoGates, intoOutput] = ops.split<tf.Tensor2D>(matMul(step.gated, fromGated), [gates, units], 1);
      const [xzr, xn] = ops.split<tf.Tensor2D>(ops.add(xSteps[t]!, intoGates!), [2 * units, units], 1);
      const [pzr, pn] = ops.split<tf.Tensor2D>(ops.add(hU!, bu), [2 * units, units], 1);
      const zr = ops.sigmoid(ops.add<tf.Tensor2D>(xzr!, pzr!));
      const [z, r] = ops.split<tf.Tensor2D>(zr, [units, units], 1);
      const n = ops.tanh(ops.add<tf.Tensor2D>(xn!, ops.mul(r!, pn!)));
      const hNext = ops.add<tf.Tensor2D>(n, ops.mul(z!, ops.sub(h, n)));
      const recorded: Record<CellRecorded, tf.Tensor> = { hPrev: h, zr, n, pn: pn! };
      for (const name of CELL_RECORDED) cell[name].push(recorded[name]);
      attention.push(step);
      deep.push(ops.add(hNext, intoOutput!));
      h = hNext;
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
 * Backpropagation through time. With dh the gradient of a step's h' and
 * a = (1 − z)(1 − n²) (as gruSequence.ts):
 *   d(z pre) = dh·(h − n)·z(1 − z)   d(r pre) = dh·a·hn·r(1 − r)
 *   d(xn)    = dh·a                  d(hn)    = dh·a·r
 * each dh times a coefficient known before the loop, so a step forms
 * dq = [d(z pre) | d(r pre) | d(xn) | d(hn) | dh·z] in one multiply. The
 * gradient of x = xProj_t + gc·Wc is its first three blocks, that of
 * h·U + b_U the blocks d(z pre), d(r pre), d(hn). Then
 *   d(gc)   = [dq | d deep]·[Wc | 0 | 0 | Wo]ᵀ, and the attention (attentionParts.ts)
 *   dh_prev = [dq | d(h·Ws) | d(g pre)]·[U_zr | 0 | U_n | I | Ws | wg]ᵀ
 * (the zero blocks skip d(xn) and dh·z where they do not belong, the
 * identity carries dh·z). Weight gradients are single matmuls after the loop.
 */
function backward(dy: tf.Tensor3D, s: Saved, layout: OptionalInputs): tf.Tensor[] {
  const ops = new RawOps();
  const [steps, batch, units] = s.hPrev.shape as [number, number, number];
  const [, regions, channels] = s.grid.shape as [number, number, number];
  const attentionDim = s.stateKernel.shape[1]!;
  const gates = 3 * units;
  const [dDeep, dAlphaOut] = ops.split<tf.Tensor3D>(dy, [units, regions], 2);
  const dDeepSteps = ops.unstack<tf.Tensor2D>(dDeep!);
  const attention = new AttentionBackward(ops, s, dAlphaOut!, savedCoverage(s));
  const one = tf.scalar(1);
  const [z, r] = ops.split(s.zr, [units, units], 2);
  const oneMinusZ = ops.sub(one, z!);
  const a = ops.mul(oneMinusZ, ops.sub(one, ops.mul(s.n, s.n)));
  const cz = ops.mul(ops.sub(s.hPrev, s.n), ops.mul(z!, oneMinusZ));
  const cr = ops.mul(ops.mul(a, s.pn), ops.mul(r!, ops.sub(one, r!)));
  const cn = ops.mul(a, r!);
  const coefficients = ops.unstack<tf.Tensor3D>(ops.stack([cz, cr, a, cn, z!], 2)); // T × [B, 5, H]
  const [uzr, un] = ops.split(s.recurrent, [2 * units, units], 1);
  const zerosC = tf.zeros([channels, 2 * units]);
  const intoGated = ops.concat<tf.Tensor2D>([s.contextKernel, zerosC, s.outputKernel], 1); // [C, 6H]
  const intoH = ops.concat<tf.Tensor2D>([uzr!, tf.zeros([units, units]), un!, tf.eye(units), s.stateKernel, s.gateKernel], 1); // [H, 5H + A + 1]
  const dqs: tf.Tensor2D[] = new Array<tf.Tensor2D>(steps);
  let dhCarry: tf.Tensor2D | null = null;
  for (let t = steps - 1; t >= 0; t--) {
    const dh: tf.Tensor2D = dhCarry ? ops.add<tf.Tensor2D>(dDeepSteps[t]!, dhCarry) : dDeepSteps[t]!;
    const dCell = ops.reshape<tf.Tensor2D>(ops.mul(ops.reshape(dh, [batch, 1, units]), coefficients[t]!), [batch, 5 * units]);
    const { dStateProj, dGatePre } = attention.step(t, matMul(ops.concat([dCell, dDeepSteps[t]!], 1), intoGated, false, true));
    const dq = ops.concat<tf.Tensor2D>([dCell, dStateProj, dGatePre], 1);
    dqs[t] = dq;
    dhCarry = matMul(dq, intoH, false, true);
  }
  const rows = steps * batch;
  const [dzr, dxn, dhn, , dStateProjAll, dGatePreAll] = ops.split<tf.Tensor2D>(
    ops.reshape(ops.stack(dqs), [rows, 5 * units + attentionDim + 1]),
    [2 * units, units, units, units, attentionDim, 1],
    1,
  );
  const dx = ops.concat<tf.Tensor2D>([dzr!, dxn!], 1); // d(xProj_t + gc·Wc)
  const dp = ops.concat<tf.Tensor2D>([dzr!, dhn!], 1); // d(h·U + b_U)
  const dFromH = matMul(ops.reshape(s.hPrev, [rows, units]), ops.concat([dp, dStateProjAll!, dGatePreAll!], 1), true, false);
  const [dRecurrent, dStateKernel, dGateKernel] = ops.split(dFromH, [gates, attentionDim, 1], 1);
  const dRecurrentBias = ops.sum(dp, 0, false);
  const dGateBias = ops.sum(dGatePreAll!, 0, false);
  const gatedAll = ops.reshape<tf.Tensor2D>(s.gated, [rows, channels]);
  const dContextKernel = matMul(gatedAll, dx, true, false);
  const dOutputKernel = matMul(gatedAll, ops.reshape(dDeep!, [rows, units]), true, false);
  const { dScore, dGridProj, dGrid, dCoverageKernel } = attention.finish();
  const dxProj = ops.transpose(ops.reshape(dx, [steps, batch, gates]), [1, 0, 2]);
  const grads = [dxProj, dGrid, dGridProj, dhCarry ?? tf.zeros([batch, units]), dStateKernel!, dScore, dGateKernel!, dGateBias, dContextKernel, dOutputKernel, dRecurrent!, dRecurrentBias];
  return [...grads, ...optionalGradients(ops, layout, dStateProjAll!, { steps, batch, attentionDim }, dCoverageKernel)];
}
