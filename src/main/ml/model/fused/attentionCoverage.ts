/**
 * Coverage in the attention's sequence nodes (`decoder.attentionCoverage`):
 * each step's energy also reads how much attention each cell has had
 * before it, cov_t = Σ_{t'<t} α_t' (attentionParts.ts has the forward term
 * and the backward pass). Here: what a step is handed, how the forward
 * loop keeps the running sum, and what the node saves of it.
 */
import * as tf from '@tensorflow/tfjs';
import type { AttentionStep } from './attentionParts';
import type { RawOps } from './rawOps';

/** Coverage's part of a step: the attention each cell had before it [B, L] and wcov [1, A]. */
export interface StepCoverage {
  coverage: tf.Tensor2D;
  kernel: tf.Tensor2D;
}

/** What coverage adds to the saved tensors: wcov [1, A] and each step's coverage [T, B, L]. */
export interface CoverageSaved {
  coverageKernel: tf.Tensor;
  coverage: tf.Tensor;
}

const COVERAGE_SAVED = ['coverageKernel', 'coverage'] as const;

/** The next step's coverage: this step's plus its attention weights α [B, 1, L]. */
function growCoverage(ops: RawOps, coverage: tf.Tensor2D, alpha: tf.Tensor3D): tf.Tensor2D {
  return ops.add<tf.Tensor2D>(coverage, ops.reshape(alpha, coverage.shape));
}

/** The coverage of the forward loop: each step's, and what the node saves of it. */
export class CoverageTrack {
  private current: tf.Tensor2D | null;
  private readonly steps: tf.Tensor2D[] = [];

  constructor(
    private readonly ops: RawOps,
    private readonly kernel: tf.Tensor2D | null,
    batch: number,
    regions: number,
  ) {
    this.current = kernel ? tf.zeros([batch, regions]) : null;
  }

  /** The coverage the next step attends with, if the node has coverage. */
  forStep(): StepCoverage | undefined {
    return this.current && this.kernel ? { coverage: this.current, kernel: this.kernel } : undefined;
  }

  /** Records the step's coverage and adds its attention weights. */
  after(step: AttentionStep): void {
    if (!this.current) return;
    this.steps.push(this.current);
    this.current = growCoverage(this.ops, this.current, step.alpha);
  }

  /** What joins the saved weights and recorded steps (nothing without coverage). */
  saved(): { weights: Record<string, tf.Tensor>; recorded: Record<string, tf.Tensor[]>; names: readonly string[] } {
    if (!this.kernel) return { weights: {}, recorded: {}, names: [] };
    return { weights: { coverageKernel: this.kernel }, recorded: { coverage: this.steps }, names: COVERAGE_SAVED };
  }
}

/** The coverage the backward pass reads from a node's saved tensors, when it has any. */
export function savedCoverage(saved: Partial<CoverageSaved>): CoverageSaved | null {
  return saved.coverageKernel && saved.coverage ? { coverageKernel: saved.coverageKernel, coverage: saved.coverage } : null;
}
