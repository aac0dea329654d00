/**
 * A mixture of product distributions, Optuna's _MixtureOfProductDistribution:
 * kernel k has weight w_k and, per dimension, either a truncated normal
 * (continuous, or discretised to a step), optionally in log space, or a
 * categorical distribution. Points are in Optuna's internal representation:
 * numbers as they are (not logged), categorical values as choice indexes.
 */
import { uniform53, weightedIndex, type Rng } from '../rng';
import { roundHalfEven } from '../transform';
import { logGaussMass, truncnormLogPdf, truncnormPpf } from './truncnorm';

export interface CategoricalKernels {
  kind: 'categorical';
  /** weights[k][c]: probability of choice c under kernel k (each row sums to 1). */
  weights: number[][];
}

export interface NumericKernels {
  kind: 'numeric';
  mu: number[];
  sigma: number[];
  /** The distribution's bounds in the parameter's own scale. */
  low: number;
  high: number;
  /** 0 for continuous parameters. */
  step: number;
  log: boolean;
}

export type DimensionKernels = CategoricalKernels | NumericKernels;

/** Bounds the kernels are truncated to: log scale when log, widened by half a step when stepped. */
export function adaptedBounds(d: NumericKernels): [number, number] {
  const low = d.step === 0 ? d.low : d.low - d.step / 2;
  const high = d.step === 0 ? d.high : d.high + d.step / 2;
  return d.log ? [Math.log(low), Math.log(high)] : [low, high];
}

export class MixtureOfProducts {
  constructor(
    readonly weights: number[],
    readonly dimensions: DimensionKernels[],
  ) {}

  /**
   * `size` points (one array per dimension). Draw order follows Optuna's:
   * the kernel of every point, then one quantile per point for each
   * categorical dimension, then one per point for each numeric dimension.
   */
  sample(rng: Rng, size: number): number[][] {
    const active = Array.from({ length: size }, () => weightedIndex(rng, this.weights));
    const out: number[][] = this.dimensions.map(() => new Array<number>(size).fill(0));
    this.dimensions.forEach((d, i) => {
      if (d.kind !== 'categorical') return;
      for (let n = 0; n < size; n++) {
        const u = uniform53(rng);
        const row = d.weights[active[n]!]!;
        // Index of the first cumulative probability >= u (the last one counts as exactly 1).
        let cumulative = 0;
        let index = 0;
        for (let c = 0; c < row.length - 1; c++) {
          cumulative += row[c]!;
          if (cumulative < u) index = c + 1;
        }
        out[i]![n] = index;
      }
    });
    this.dimensions.forEach((d, i) => {
      if (d.kind !== 'numeric') return;
      const [low, high] = adaptedBounds(d);
      for (let n = 0; n < size; n++) {
        const k = active[n]!;
        const mu = d.mu[k]!;
        const sigma = d.sigma[k]!;
        const q = uniform53(rng);
        let x = truncnormPpf(q, (low - mu) / sigma, (high - mu) / sigma) * sigma + mu;
        if (d.log) x = Math.exp(x);
        if (d.step !== 0) x = Math.min(Math.max(d.low + roundHalfEven((x - d.low) / d.step) * d.step, d.low), d.high);
        out[i]![n] = x;
      }
    });
    return out;
  }

  /** Log density (log probability for discrete dimensions) of each point; points given one array per dimension. */
  logPdf(points: number[][]): number[] {
    const size = points[0]?.length ?? 0;
    const K = this.weights.length;
    const table: Float64Array[] = Array.from({ length: size }, () => new Float64Array(K));
    this.dimensions.forEach((d, i) => {
      const xs = points[i]!;
      if (d.kind === 'categorical') {
        for (let n = 0; n < size; n++) for (let k = 0; k < K; k++) table[n]![k]! += Math.log(d.weights[k]![Math.trunc(xs[n]!)]!);
        return;
      }
      const [low, high] = adaptedBounds(d);
      if (d.step === 0) {
        for (let n = 0; n < size; n++) {
          const x = d.log ? Math.log(xs[n]!) : xs[n]!;
          for (let k = 0; k < K; k++) {
            const mu = d.mu[k]!;
            const sigma = d.sigma[k]!;
            table[n]![k]! += truncnormLogPdf(x, (low - mu) / sigma, (high - mu) / sigma, mu, sigma);
          }
        }
        return;
      }
      // Discrete: the kernel's mass over [x - step/2, x + step/2], renormalised to the widened bounds.
      const acceptance = d.mu.map((mu, k) => logGaussMass((low - mu) / d.sigma[k]!, (high - mu) / d.sigma[k]!));
      for (let n = 0; n < size; n++) {
        const left = d.log ? Math.log(xs[n]! - d.step / 2) : xs[n]! - d.step / 2;
        const right = d.log ? Math.log(xs[n]! + d.step / 2) : xs[n]! + d.step / 2;
        for (let k = 0; k < K; k++) {
          const mu = d.mu[k]!;
          const sigma = d.sigma[k]!;
          table[n]![k]! += logGaussMass((left - mu) / sigma, (right - mu) / sigma) - acceptance[k]!;
        }
      }
    });
    const logWeights = this.weights.map((w) => Math.log(w));
    return table.map((row) => {
      let max = -Infinity;
      for (let k = 0; k < K; k++) {
        row[k]! += logWeights[k]!;
        if (row[k]! > max) max = row[k]!;
      }
      // Avoid (-inf) - (-inf) when every kernel gives zero probability.
      if (max === -Infinity) max = 0;
      let sum = 0;
      for (let k = 0; k < K; k++) sum += Math.exp(row[k]! - max);
      return Math.log(sum) + max;
    });
  }
}
