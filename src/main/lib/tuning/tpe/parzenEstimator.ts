/**
 * TPE's Parzen estimator, as Optuna's samplers/_tpe/parzen_estimator.py
 * (Optuna 5.0) builds it from the observations of one group of trials (the
 * good "below" ones or the rest, "above"):
 *
 * - one kernel per observation plus a prior kernel; observation weights from
 *   the weights function (default_weights), the prior weighted prior_weight,
 *   all normalised to sum to 1;
 * - numeric dimensions: truncated normals centred on the observations (log
 *   space for log parameters; bounds widened by half a step for stepped
 *   ones); each bandwidth is the larger gap to its sorted neighbours (the
 *   bounds count as neighbours), except that without consider_endpoints the
 *   two outermost observations use their inner gap; then clipped to
 *   [(high-low)/min(100, n+2), high-low] with consider_magic_clip (else
 *   [1e-12, high-low]); the prior kernel sits mid-range with sigma high-low;
 * - categorical dimensions: kernel k puts prior_weight/(n+1) on every choice
 *   plus 1 on its observed choice, normalised; the prior kernel is uniform.
 */
import type { Distribution, SearchSpace } from '../space';
import { MixtureOfProducts, type DimensionKernels } from './mixture';
import type { Rng } from '../rng';

const EPS = 1e-12;

export interface ParzenEstimatorParameters {
  priorWeight: number;
  considerMagicClip: boolean;
  considerEndpoints: boolean;
  /** Weight of each of n observations, oldest first (Optuna's default_weights). */
  weights: (n: number) => number[];
}

/** Optuna's default_weights: flat for up to 25 observations; beyond, a ramp from 1/n for the oldest and 1 for the newest 25. */
export function defaultWeights(n: number): number[] {
  if (n === 0) return [];
  if (n < 25) return new Array<number>(n).fill(1);
  const rampLength = n - 25;
  // numpy.linspace(1/n, 1, n - 25): start + i * step, the last point exactly 1.
  const start = 1 / n;
  const step = rampLength > 1 ? (1 - start) / (rampLength - 1) : 0;
  const ramp = Array.from({ length: rampLength }, (_, i) => (rampLength > 1 && i === rampLength - 1 ? 1 : i * step + start));
  return [...ramp, ...new Array<number>(25).fill(1)];
}

function checkedWeights(fn: (n: number) => number[], n: number): number[] {
  const w = fn(n).slice(0, n);
  if (w.some((v) => v < 0)) throw new Error(`the weights function returned negative values for n = ${n}.`);
  if (w.length > 0 && w.reduce((a, b) => a + b, 0) <= 0) throw new Error(`the weights function returned all zeros for n = ${n}.`);
  if (!w.every(Number.isFinite)) throw new Error(`the weights function returned non-finite values for n = ${n}.`);
  return w;
}

function categoricalKernels(observations: number[], choices: number, priorWeight: number): DimensionKernels {
  if (observations.length === 0) return { kind: 'categorical', weights: [new Array<number>(choices).fill(1 / choices)] };
  const nKernels = observations.length + 1;
  const weights = Array.from({ length: nKernels }, () => new Array<number>(choices).fill(priorWeight / nKernels));
  observations.forEach((index, k) => (weights[k]![Math.trunc(index)]! += 1));
  for (const row of weights) {
    const sum = row.reduce((a, b) => a + b, 0);
    const divisor = sum === 0 ? 1 : sum;
    for (let c = 0; c < row.length; c++) row[c] = row[c]! / divisor;
  }
  return { kind: 'categorical', weights };
}

function numericKernels(observations: number[], dist: Exclude<Distribution, { type: 'categorical' }>, parameters: ParzenEstimatorParameters): DimensionKernels {
  const step = dist.step;
  let low = dist.low;
  let high = dist.high;
  if (step !== undefined) {
    low -= step / 2;
    high += step / 2;
  }
  let mus = observations;
  if (dist.log) {
    mus = observations.map(Math.log);
    low = Math.log(low);
    high = Math.log(high);
  }
  // Bandwidths from the gaps between sorted neighbours (stable argsort, as numpy's for distinct keys).
  const order = mus.map((_, i) => i).sort((a, b) => mus[a]! - mus[b]! || a - b);
  const withEnds = [low, ...order.map((i) => mus[i]!), high];
  const sortedSigmas = order.map((_, j) => Math.max(withEnds[j + 1]! - withEnds[j]!, withEnds[j + 2]! - withEnds[j + 1]!));
  if (!parameters.considerEndpoints && withEnds.length >= 4) {
    sortedSigmas[0] = withEnds[2]! - withEnds[1]!;
    sortedSigmas[sortedSigmas.length - 1] = withEnds[withEnds.length - 2]! - withEnds[withEnds.length - 3]!;
  }
  const sigmas = new Array<number>(mus.length);
  order.forEach((original, j) => (sigmas[original] = sortedSigmas[j]!));
  const maxSigma = high - low;
  const minSigma = parameters.considerMagicClip ? (high - low) / Math.min(100, 1 + (observations.length + 1)) : EPS;
  const clipped = sigmas.map((s) => Math.min(Math.max(s, minSigma), maxSigma));
  return {
    kind: 'numeric',
    mu: [...mus, 0.5 * (low + high)],
    sigma: [...clipped, high - low],
    low: dist.low,
    high: dist.high,
    step: step ?? 0,
    log: dist.log,
  };
}

export class ParzenEstimator {
  readonly mixture: MixtureOfProducts;
  private readonly names: string[];

  /**
   * @param observations internal values per parameter (categorical as indexes), one per trial, in trial order
   * @param predeterminedWeights overrides the weights function (used by the importance evaluator)
   */
  constructor(observations: Record<string, number[]>, space: SearchSpace, parameters: ParzenEstimatorParameters, predeterminedWeights?: number[]) {
    if (parameters.priorWeight < 0) throw new Error(`prior weight must not be negative (got ${parameters.priorWeight}).`);
    this.names = Object.keys(space);
    const n = this.names.length > 0 ? (observations[this.names[0]!]?.length ?? 0) : 0;
    let weights = predeterminedWeights ? predeterminedWeights.slice() : checkedWeights(parameters.weights, n);
    weights = n === 0 ? [1] : [...weights, parameters.priorWeight];
    const total = weights.reduce((a, b) => a + b, 0);
    weights = weights.map((w) => w / total);
    const dimensions = this.names.map((name) => {
      const dist = space[name]!;
      const values = observations[name] ?? [];
      return dist.type === 'categorical' ? categoricalKernels(values, dist.choices.length, parameters.priorWeight) : numericKernels(values, dist, parameters);
    });
    this.mixture = new MixtureOfProducts(weights, dimensions);
  }

  /** `size` points in the internal representation, per parameter. */
  sample(rng: Rng, size: number): Record<string, number[]> {
    const columns = this.mixture.sample(rng, size);
    return Object.fromEntries(this.names.map((name, i) => [name, columns[i]!]));
  }

  logPdf(points: Record<string, number[]>): number[] {
    return this.mixture.logPdf(this.names.map((name) => points[name]!));
  }
}
