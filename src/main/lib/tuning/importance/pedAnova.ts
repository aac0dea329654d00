/**
 * Parameter importance with PED-ANOVA (Watanabe et al., IJCAI 2023), as
 * Optuna 5.0's PedAnovaImportanceEvaluator (Optuna 5's default evaluator)
 * computes it for one objective:
 *
 * 1. Take the complete trials with a finite value; with one or none, every
 *    importance is 0.
 * 2. The "target" trials are the best `targetQuantile` (default 0.1, ties at
 *    the cut-off all kept); the "region" the best `regionQuantile` (default
 *    1.0: all of them).
 * 3. Per parameter, bin its values on a grid (50 points; fewer for stepped and
 *    log-int parameters; log scale for log parameters; choices for
 *    categorical ones), fit a 1-D Parzen estimator with Scott's bandwidth to
 *    the target trials' bins and one to the region's (or a uniform density
 *    when `evaluateOnLocal` is false), and take the Pearson divergence
 *    Σ p_region (p_target / p_region - 1)².
 * 4. Scale by (|target| / |region|)². Parameters a trial does not have, or
 *    with one possible value, add nothing.
 *
 * Deterministic: no random numbers are involved.
 */
import { contains, isSingle, toInternal, type Distribution, type SearchSpace } from '../space';
import { roundHalfEven } from '../transform';
import { MixtureOfProducts, type DimensionKernels } from '../tpe/mixture';
import type { ParamValue, StudyView, TrialRecord } from '../types';

export interface PedAnovaOptions {
  targetQuantile?: number;
  regionQuantile?: number;
  evaluateOnLocal?: boolean;
}

const N_STEPS = 50;
const PRIOR_WEIGHT = 1;
const MIN_TRIALS_IN_REGIME = 2;

/** Keeps the trials whose loss is at most the ceil(q·n)-th smallest (lower is better). */
function topQuantile(trials: TrialRecord[], quantile: number, lowerIsBetter: boolean): TrialRecord[] {
  if (quantile === 1) return trials;
  const sign = lowerIsBetter ? 1 : -1;
  const losses = trials.map((t) => sign * (t.value as number));
  const cutoffIndex = Math.ceil(quantile * losses.length) - 1;
  const cutoff = losses.slice().sort((a, b) => a - b)[cutoffIndex]!;
  return trials.filter((_, i) => losses[i]! <= cutoff);
}

/** How many trials fall in each grid bin of a numeric parameter (Optuna's _count_numerical_param_in_grid). */
function countNumeric(name: string, dist: Exclude<Distribution, { type: 'categorical' }>, trials: TrialRecord[]): number[] {
  let nSteps = N_STEPS;
  if (dist.type === 'int' && dist.log) {
    const log2DomainSize = Math.ceil(Math.log(dist.high - dist.low + 1) / Math.log(2)) + 1;
    nSteps = Math.min(log2DomainSize, nSteps);
  } else if (dist.step !== undefined) {
    nSteps = Math.min(roundHalfEven((dist.high - dist.low) / dist.step) + 1, nSteps);
  }
  const low = dist.log ? Math.log(dist.low) : dist.low;
  const high = dist.log ? Math.log(dist.high) : dist.high;
  const stepSize = (high - low) / (nSteps - 1);
  const counts = new Array<number>(nSteps).fill(0);
  for (const t of trials) {
    const raw = t.params[name] as number;
    const value = dist.log ? Math.log(raw) : raw;
    // Midpoint ties go to the lower bin, as in Optuna.
    const index = Math.min(Math.max(Math.ceil((value - low) / stepSize - 0.5), 0), nSteps - 1);
    counts[index]! += 1;
  }
  return counts;
}

function countCategorical(name: string, dist: Extract<Distribution, { type: 'categorical' }>, trials: TrialRecord[]): number[] {
  const counts = new Array<number>(dist.choices.length).fill(0);
  for (const t of trials) counts[toInternal(dist, t.params[name] as ParamValue)]! += 1;
  return counts;
}

/** numpy.searchsorted on an ascending array. */
function searchSorted(sorted: readonly number[], value: number, side: 'left' | 'right'): number {
  let i = 0;
  while (i < sorted.length && (side === 'left' ? sorted[i]! < value : sorted[i]! <= value)) i++;
  return i;
}

/** Optuna's ScottParzenEstimator over grid indexes 0..size-1 (numeric) or choices (categorical). */
function scottEstimator(counts: number[], categorical: boolean): MixtureOfProducts {
  const observations = counts.flatMap((c, i) => (c > 0 ? [i] : []));
  const weights = observations.map((i) => counts[i]!);
  let mixtureWeights = observations.length === 0 ? [1] : [...weights, PRIOR_WEIGHT];
  const total = mixtureWeights.reduce((a, b) => a + b, 0);
  mixtureWeights = mixtureWeights.map((w) => w / total);
  let dimension: DimensionKernels;
  if (categorical) {
    const choices = counts.length;
    if (observations.length === 0) dimension = { kind: 'categorical', weights: [new Array<number>(choices).fill(1 / choices)] };
    else {
      const nKernels = observations.length + 1;
      const rows = Array.from({ length: nKernels }, () => new Array<number>(choices).fill(PRIOR_WEIGHT / nKernels));
      observations.forEach((index, k) => (rows[k]![index]! += 1));
      for (const row of rows) {
        const sum = row.reduce((a, b) => a + b, 0) || 1;
        for (let c = 0; c < choices; c++) row[c] = row[c]! / sum;
      }
      dimension = { kind: 'categorical', weights: rows };
    }
  } else {
    const low = 0;
    const high = counts.length - 1;
    const cumulative: number[] = [];
    weights.reduce((sum, w) => (cumulative.push(sum + w), sum + w), 0);
    const weightSum = cumulative[cumulative.length - 1]!;
    const mean = observations.reduce((s, x, i) => s + x * weights[i]!, 0) / weightSum;
    let sigma = Math.sqrt(observations.reduce((s, x, i) => s + (x - mean) ** 2 * weights[i]!, 0) / Math.max(1, weightSum - 1));
    const q1 = searchSorted(cumulative, Math.floor(weightSum / 4), 'left');
    const q3 = searchSorted(cumulative, Math.floor((weightSum * 3) / 4), 'right');
    const iqr = observations[Math.min(observations.length - 1, q3)]! - observations[q1]!;
    sigma = 1.059 * Math.min(iqr / 1.34, sigma) * weightSum ** -0.2;
    // 0.5 / 1.64: 90% of a kernel's mass lands within its own grid cell at least.
    const sigmaMin = 0.5 / 1.64;
    dimension = {
      kind: 'numeric',
      mu: [...observations, (low + high) / 2],
      sigma: [...observations.map(() => Math.max(sigma, sigmaMin)), high - low + 1],
      low,
      high,
      step: 1,
      log: false,
    };
  }
  return new MixtureOfProducts(mixtureWeights, [dimension]);
}

function gridPdf(name: string, dist: Distribution, trials: TrialRecord[]): number[] {
  const counts = dist.type === 'categorical' ? countCategorical(name, dist, trials) : countNumeric(name, dist, trials);
  const mixture = scottEstimator(counts, dist.type === 'categorical');
  const grid = counts.map((_, i) => i);
  return mixture.logPdf([grid]).map((v) => Math.exp(v) + 1e-12);
}

function pearsonDivergence(name: string, dist: Distribution, target: TrialRecord[], region: TrialRecord[], evaluateOnLocal: boolean): number {
  const top = gridPdf(name, dist, target);
  const local = evaluateOnLocal ? gridPdf(name, dist, region) : new Array<number>(top.length).fill(1 / top.length);
  return local.reduce((sum, p, i) => sum + p * (top[i]! / p - 1) ** 2, 0);
}

export class PedAnovaEvaluator {
  readonly targetQuantile: number;
  readonly regionQuantile: number;
  readonly evaluateOnLocal: boolean;

  constructor(options: PedAnovaOptions = {}) {
    this.targetQuantile = options.targetQuantile ?? 0.1;
    this.regionQuantile = options.regionQuantile ?? 1;
    this.evaluateOnLocal = options.evaluateOnLocal ?? true;
    if (!(this.targetQuantile > 0 && this.targetQuantile < this.regionQuantile && this.regionQuantile <= 1)) {
      throw new Error(`importance: need 0 < targetQuantile < regionQuantile <= 1 (got ${this.targetQuantile} and ${this.regionQuantile}).`);
    }
  }

  /** Raw (unnormalised) importance of each parameter of the space. */
  evaluate(study: StudyView, space: SearchSpace): Record<string, number> {
    const names = Object.keys(space);
    const trials = study.trials.filter((t) => t.state === 'complete' && Number.isFinite(t.value));
    const zero = () => Object.fromEntries(names.map((n) => [n, 0]));
    if (trials.length <= 1) return zero();
    const lowerIsBetter = study.direction === 'minimize';
    const target = topQuantile(trials, this.targetQuantile, lowerIsBetter);
    const region = topQuantile(trials, this.regionQuantile, lowerIsBetter);
    if (target.length === 0) return zero();
    const targetNumbers = new Set(target.map((t) => t.number));
    const quantile = target.length / region.length;
    const out: Record<string, number> = {};
    for (const name of names) {
      const dist = space[name]!;
      let importance = 0;
      // The active regime: region trials that have this parameter inside its distribution.
      const regime = region.filter((t) => name in t.params && contains(dist, t.params[name] as ParamValue));
      const targetRegime = regime.filter((t) => targetNumbers.has(t.number));
      if (regime.length >= MIN_TRIALS_IN_REGIME && !isSingle(dist) && targetRegime.length > 0) {
        const alpha = targetRegime.length / target.length;
        const beta = regime.length / region.length;
        importance += (alpha ** 2 / beta) * pearsonDivergence(name, dist, targetRegime, regime, this.evaluateOnLocal);
      }
      out[name] = importance * quantile ** 2;
    }
    return out;
  }
}

/** Scales importances to sum to 1 (equal shares when all are 0), sorted most important first, as Optuna's get_param_importances. */
export function normalizeImportances(raw: Record<string, number>): Record<string, number> {
  const entries = Object.entries(raw);
  const sum = entries.reduce((s, [, v]) => s + v, 0);
  const normalized = entries.map(([k, v]) => [k, sum === 0 ? 1 / entries.length : v / sum] as const);
  return Object.fromEntries(normalized.sort((a, b) => b[1] - a[1]));
}
