/**
 * The attention half of the attention decoder's sequence nodes
 * (attentionLstmSequence.ts, attentionGruSequence.ts): one step forward,
 * and its backpropagation step by step with the weight, grid and grid
 * projection gradients formed once after the loop. The cells differ; this
 * part does not. Runs inside a `tf.customGrad` node (plain ops, not taped).
 *
 * Forward, from the state's projections h·Ws and h·wg:
 *   e = tanh(gridProj + h·Ws)   s = e·v   α = softmax(s)   ctx = α·grid
 *   g = σ(h·wg + bg)   gc = g·ctx
 * Backward, given d(gc) of a step:
 *   dctx = g·d(gc)   d(g pre) = Σ d(gc)·ctx·g(1 − g)
 *   dα   = dctx·gridᵀ + (the α output's gradient)
 *   ds   = α·(dα − Σ dα·α)                    (softmax)
 *   d(e pre) = ds ⊗ k, k = v·(1 − e²)          (k formed for all steps at once)
 *   d(h·Ws)  = Σ_l d(e pre)
 * and after the loop dv = Σ eᵀ·ds, d gridProj = Σ_t d(e pre),
 * d grid = Σ_t α_tᵀ·dctx_t (one batched matmul over all steps).
 *
 * With coverage (`decoder.attentionCoverage`), the energy also reads how
 * much attention each cell has had before the step, cov_t = Σ_{t'<t} α_t':
 *   e = tanh(gridProj + h·Ws + cov_t ⊗ wcov)
 * cov_t depends on every earlier α, so backward the steps pass
 * d cov_t = ds ⊙ (k·wcov) back to all earlier α: a running sum, added to
 * dα of each step before its softmax's backward, then grown by the step's
 * own d cov. After the loop d wcov = Σ (ds ⊙ cov)·k.
 */
import * as tf from '@tensorflow/tfjs';
import type { CoverageSaved, StepCoverage } from './attentionCoverage';
import { attr, matMul, runOp } from './nativeOps';
import type { RawOps } from './rawOps';

/** `BatchMatMulV2` with adjoint attributes: a·b, aᵀ·b or a·bᵀ per batch entry without a transposed copy. */
export function batchMatMul(a: tf.Tensor, b: tf.Tensor, adjX = false, adjY = false): tf.Tensor3D {
  return runOp('BatchMatMulV2', [attr.bool('adj_x', adjX), attr.bool('adj_y', adjY), attr.float32Type()], [a, b], 1)[0] as tf.Tensor3D;
}

/** What a forward step keeps for the backward pass, per step: e [B, L, A], α [B, 1, L], ctx [B, C], g [B, 1], gc [B, C]. */
export interface AttentionStep {
  energy: tf.Tensor3D;
  alpha: tf.Tensor3D;
  context: tf.Tensor2D;
  gate: tf.Tensor2D;
  gated: tf.Tensor2D;
}

/** One step's attention from h·Ws [B, A] and h·wg [B, 1]; v [A, 1], bg [1]; with coverage, cov ⊗ wcov joins the energy. */
export function attendStep(
  ops: RawOps,
  stateProj: tf.Tensor2D,
  gateRaw: tf.Tensor2D,
  { grid, gridProj, score, gateBias }: { grid: tf.Tensor3D; gridProj: tf.Tensor3D; score: tf.Tensor2D; gateBias: tf.Tensor1D },
  coverage?: StepCoverage,
): AttentionStep {
  const [batch, regions, attentionDim] = gridProj.shape;
  const channels = grid.shape[2];
  let pre = ops.add<tf.Tensor3D>(gridProj, ops.reshape(stateProj, [batch, 1, attentionDim]));
  if (coverage) pre = ops.add<tf.Tensor3D>(pre, ops.mul(ops.reshape(coverage.coverage, [batch, regions, 1]), ops.reshape(coverage.kernel, [1, 1, attentionDim])));
  const energy = ops.tanh(pre);
  const scores = ops.reshape<tf.Tensor3D>(matMul(ops.reshape(energy, [batch * regions, attentionDim]), score), [batch, 1, regions]);
  const alpha = ops.softmax<tf.Tensor3D>(scores);
  const context = ops.reshape<tf.Tensor2D>(batchMatMul(alpha, grid), [batch, channels]);
  const gate = ops.sigmoid(ops.add<tf.Tensor2D>(gateRaw, gateBias));
  return { energy, alpha, context, gate, gated: ops.mul<tf.Tensor2D>(gate, context) };
}

/** The forward steps' attention tensors stacked time-major, as the node saves them. */
export interface AttentionSaved {
  grid: tf.Tensor;
  score: tf.Tensor;
  /** [T, B, L, A] */
  energy: tf.Tensor;
  /** [T, B, L] */
  alpha: tf.Tensor;
  /** [T, B, C] */
  context: tf.Tensor;
  /** [T, B, 1] */
  gate: tf.Tensor;
}

export const ATTENTION_SAVED = ['grid', 'score', 'energy', 'alpha', 'context', 'gate'] as const;

/** Stacks the steps' tensors time-major (α as [T, B, L]). */
export function stackAttention(ops: RawOps, steps: readonly AttentionStep[], grid: tf.Tensor, score: tf.Tensor): AttentionSaved & { gated: tf.Tensor } {
  const stack = (name: keyof AttentionStep) => ops.stack(steps.map((step) => step[name]));
  const [batch, , regions] = steps[0]!.alpha.shape;
  return {
    grid,
    score,
    energy: stack('energy'),
    alpha: ops.reshape(stack('alpha'), [steps.length, batch, regions]),
    context: stack('context'),
    gate: stack('gate'),
    gated: stack('gated'),
  };
}

/** Backpropagation through the attention, one step at a time (last step first), then the batched gradients. */
/**
 * The end of a sequence node's forward pass, the same for both cells: the
 * attention and the cell's per-step tensors stacked and saved under
 * `savedNames` (the names the backward pass reads them by), and one output
 * [T, B, H + L], the deep outputs beside the attention weights (a tape node
 * has one output).
 */
export function finishSequence<Saved extends AttentionSaved>(
  ops: RawOps,
  savedNames: readonly string[],
  parts: {
    attention: readonly AttentionStep[];
    grid: tf.Tensor;
    score: tf.Tensor;
    /** Weights the backward pass reads, by their saved names. */
    weights: Record<string, tf.Tensor>;
    /** The cell's per-step tensors, stacked here, by their saved names. */
    recorded: Record<string, tf.Tensor[]>;
    deep: tf.Tensor[];
  },
  save: tf.GradSaveFunc,
  backward: (dy: tf.Tensor3D, saved: Saved) => tf.Tensor[],
): { value: tf.Tensor3D; gradFunc: (dy: tf.Tensor3D, saved: tf.Tensor[]) => tf.Tensor[] } {
  const stacked = stackAttention(ops, parts.attention, parts.grid, parts.score);
  const stackedCell = Object.fromEntries(Object.entries(parts.recorded).map(([name, steps]) => [name, ops.stack(steps)]));
  const all: Record<string, tf.Tensor> = { ...stacked, ...parts.weights, ...stackedCell };
  save(savedNames.map((name) => all[name]!));
  return {
    value: ops.concat<tf.Tensor3D>([ops.stack(parts.deep), stacked.alpha], 2),
    gradFunc: (dy, tensors) => backward(dy, Object.fromEntries(savedNames.map((name, k) => [name, tensors[k]!])) as unknown as Saved),
  };
}

/** A sequence node's output [T, B, H + L] as the deep outputs [B, T, H] and the attention weights [B, T, L]. */
export function splitSequenceOutput(both: tf.Tensor3D, units: number, regions: number): { deep: tf.Tensor3D; alpha: tf.Tensor3D } {
  const [deep, alpha] = tf.split(both, [units, regions], 2) as [tf.Tensor3D, tf.Tensor3D];
  return { deep: tf.transpose(deep, [1, 0, 2]), alpha: tf.transpose(alpha, [1, 0, 2]) };
}

export class AttentionBackward {
  private readonly k: tf.Tensor4D;
  private readonly kSteps: tf.Tensor3D[];
  private readonly contextCoefficient: tf.Tensor2D[];
  private readonly gateSteps: tf.Tensor2D[];
  private readonly alphaSteps: tf.Tensor3D[];
  private readonly dAlphaOutSteps: tf.Tensor3D[];
  private readonly dss: tf.Tensor3D[];
  private readonly dContexts: tf.Tensor2D[];
  private readonly batch: number;
  private readonly channels: number;
  private readonly attentionDim: number;
  /** With coverage: k·wcov per step [B, 1, L], and Σ d cov of the steps after the current one [B, 1, L]. */
  private readonly coverageSteps: tf.Tensor3D[] | null = null;
  private dCoverageLater: tf.Tensor3D | null = null;

  /** `dAlphaOut`: the gradient of the α output [T, B, L]. */
  constructor(
    private readonly ops: RawOps,
    private readonly saved: AttentionSaved,
    dAlphaOut: tf.Tensor,
    private readonly coverage: CoverageSaved | null = null,
  ) {
    const [steps, batch, regions] = saved.alpha.shape as [number, number, number];
    this.batch = batch;
    this.channels = saved.grid.shape[2]!;
    this.attentionDim = saved.score.shape[0]!;
    // Coefficients that do not depend on the incoming gradient, for all steps at once.
    this.k = ops.mul<tf.Tensor4D>(ops.sub(tf.scalar(1), ops.mul(saved.energy, saved.energy)), ops.reshape(saved.score, [this.attentionDim])); // [T, B, L, A]
    this.kSteps = ops.unstack(this.k);
    this.contextCoefficient = ops.unstack(ops.mul(saved.context, ops.mul(saved.gate, ops.sub(tf.scalar(1), saved.gate))));
    this.gateSteps = ops.unstack(saved.gate);
    this.alphaSteps = ops.unstack(ops.reshape(saved.alpha, [steps, batch, 1, regions]));
    this.dAlphaOutSteps = ops.unstack(ops.reshape(dAlphaOut, [steps, batch, 1, regions]));
    this.dss = new Array<tf.Tensor3D>(steps);
    this.dContexts = new Array<tf.Tensor2D>(steps);
    if (coverage) {
      const perCell = matMul(ops.reshape(this.k, [steps * batch * regions, this.attentionDim]), ops.reshape(coverage.coverageKernel, [this.attentionDim, 1]));
      this.coverageSteps = ops.unstack(ops.reshape(perCell, [steps, batch, 1, regions]));
    }
  }

  /** Step t given d(gc) [B, C]: the gradients of h·Ws [B, A] and of the gate's pre-activation [B, 1]. */
  step(t: number, dGated: tf.Tensor2D): { dStateProj: tf.Tensor2D; dGatePre: tf.Tensor2D } {
    const ops = this.ops;
    const dContext = ops.mul<tf.Tensor2D>(dGated, this.gateSteps[t]!);
    const dGatePre = ops.sum<tf.Tensor2D>(ops.mul(dGated, this.contextCoefficient[t]!), 1, true);
    let dAlpha = ops.add<tf.Tensor3D>(batchMatMul(ops.reshape(dContext, [this.batch, 1, this.channels]), this.saved.grid, false, true), this.dAlphaOutSteps[t]!);
    // Every later step's coverage holds this step's α.
    if (this.dCoverageLater) dAlpha = ops.add<tf.Tensor3D>(dAlpha, this.dCoverageLater);
    const alpha = this.alphaSteps[t]!;
    const ds = ops.mul<tf.Tensor3D>(alpha, ops.sub(dAlpha, batchMatMul(dAlpha, alpha, false, true))); // Σ dα·α as a [B, 1, 1] matmul
    if (this.coverageSteps) {
      const dCoverage = ops.mul<tf.Tensor3D>(ds, this.coverageSteps[t]!);
      this.dCoverageLater = this.dCoverageLater ? ops.add<tf.Tensor3D>(this.dCoverageLater, dCoverage) : dCoverage;
    }
    this.dss[t] = ds;
    this.dContexts[t] = dContext;
    return { dStateProj: ops.reshape<tf.Tensor2D>(batchMatMul(ds, this.kSteps[t]!), [this.batch, this.attentionDim]), dGatePre };
  }

  /** After the loop: the gradients of v [A, 1], gridProj [B, L, A], grid [B, L, C] and, with coverage, wcov [1, A]. */
  finish(): { dScore: tf.Tensor; dGridProj: tf.Tensor; dGrid: tf.Tensor; dCoverageKernel?: tf.Tensor } {
    const ops = this.ops;
    const [steps, batch, regions] = this.saved.alpha.shape as [number, number, number];
    const rows = steps * batch * regions;
    const dsAll = ops.stack(this.dss); // [T, B, 1, L]
    const dScore = matMul(ops.reshape(this.saved.energy, [rows, this.attentionDim]), ops.reshape(dsAll, [rows, 1]), true, false);
    const dGridProj = ops.sum(ops.mul(ops.reshape(dsAll, [steps, batch, regions, 1]), this.k), 0, false);
    // Σ_t α_tᵀ·dctx_t per row: one batched matmul over [B, T, L] and [B, T, C].
    const dGrid = batchMatMul(ops.transpose(this.saved.alpha, [1, 0, 2]), ops.stack(this.dContexts, 1), true, false);
    if (!this.coverage) return { dScore, dGridProj, dGrid };
    // d wcov = Σ_{t,b,l} ds·cov·k: one [1, rows] × [rows, A] matmul.
    const weighted = ops.mul<tf.Tensor2D>(ops.reshape(dsAll, [1, rows]), ops.reshape(this.coverage.coverage, [1, rows]));
    const dCoverageKernel = matMul(weighted, ops.reshape<tf.Tensor2D>(this.k, [rows, this.attentionDim]));
    return { dScore, dGridProj, dGrid, dCoverageKernel };
  }
}

