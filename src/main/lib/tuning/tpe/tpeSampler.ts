/**
 * The Tree-structured Parzen Estimator, reimplemented from Optuna 5.0's
 * TPESampler (single objective, no constraints):
 *
 * 1. Until `nStartupTrials` trials are complete or pruned, suggestions are
 *    uniform random (RandomSampler).
 * 2. Otherwise the finished trials (plus running ones under the constant
 *    liar) are split into good and bad (`splitTrials`, gamma(n) good ones, n
 *    counting finished trials only), a Parzen estimator l(x) is fitted to the
 *    good and g(x) to the bad, `nEiCandidates` points are drawn from l, and
 *    the one with the largest log l(x) - log g(x) is suggested.
 * 3. multivariate (default here and in Optuna 5; Optuna 4 and older default
 *    to false): all parameters are modelled jointly, one kernel per trial over
 *    the whole space. Without it, each parameter gets its own estimators,
 *    fitted to the trials that have it.
 * 4. Parameters with a single value are not modelled; they get that value.
 */
import { sampleUniformParams } from '../samplers/random';
import { trialRng, type Rng } from '../rng';
import { finishedTrials, type Sampler, type SuggestRequest } from '../sampler';
import { contains, isSingle, toExternal, toInternal, type SearchSpace } from '../space';
import type { ParamValue, Params, StudyView, TrialRecord } from '../types';
import { defaultWeights, ParzenEstimator, type ParzenEstimatorParameters } from './parzenEstimator';
import { defaultGamma, splitTrials } from './split';

export interface TpeSamplerOptions {
  seed?: number;
  /** Random suggestions until this many trials are complete or pruned (Optuna: 10). */
  nStartupTrials?: number;
  /** Candidates drawn from l(x) per suggestion (Optuna: 24). */
  nEiCandidates?: number;
  /** Number of good trials out of n finished ones (Optuna: min(ceil(0.1 n), 25)). */
  gamma?: (n: number) => number;
  /** Observation weights, oldest first (Optuna: default_weights). */
  weights?: (n: number) => number[];
  priorWeight?: number;
  considerMagicClip?: boolean;
  considerEndpoints?: boolean;
  multivariate?: boolean;
  /** Count running trials as bad (Optuna 5: true). */
  constantLiar?: boolean;
}

export const TPE_DEFAULTS = {
  seed: 0,
  nStartupTrials: 10,
  nEiCandidates: 24,
  priorWeight: 1,
  considerMagicClip: true,
  considerEndpoints: false,
  multivariate: true,
  constantLiar: true,
} as const;

export class TpeSampler implements Sampler {
  readonly name = 'tpe';
  private readonly seed: number;
  private readonly nStartupTrials: number;
  private readonly nEiCandidates: number;
  private readonly gamma: (n: number) => number;
  private readonly multivariate: boolean;
  private readonly constantLiar: boolean;
  private readonly parzen: ParzenEstimatorParameters;

  constructor(options: TpeSamplerOptions = {}) {
    const o = { ...TPE_DEFAULTS, ...options };
    if (!Number.isInteger(o.nStartupTrials) || o.nStartupTrials < 0) throw new Error(`tpe: nStartupTrials must be a whole number >= 0 (got ${o.nStartupTrials}).`);
    if (!Number.isInteger(o.nEiCandidates) || o.nEiCandidates < 1) throw new Error(`tpe: nEiCandidates must be a whole number >= 1 (got ${o.nEiCandidates}).`);
    if (!(o.priorWeight >= 0)) throw new Error(`tpe: priorWeight must not be negative (got ${o.priorWeight}).`);
    this.seed = o.seed;
    this.nStartupTrials = o.nStartupTrials;
    this.nEiCandidates = o.nEiCandidates;
    this.gamma = options.gamma ?? defaultGamma;
    this.multivariate = o.multivariate;
    this.constantLiar = o.constantLiar;
    this.parzen = {
      priorWeight: o.priorWeight,
      considerMagicClip: o.considerMagicClip,
      considerEndpoints: o.considerEndpoints,
      weights: options.weights ?? defaultWeights,
    };
  }

  suggest({ study, space, trialNumber }: SuggestRequest): Params {
    const rng = trialRng(this.seed, this.name, trialNumber);
    if (finishedTrials(study, trialNumber).length < this.nStartupTrials) return sampleUniformParams(space, rng);

    const params: Params = {};
    const modelled: SearchSpace = {};
    for (const [name, dist] of Object.entries(space)) {
      if (isSingle(dist)) params[name] = dist.type === 'categorical' ? (dist.choices[0] as ParamValue) : dist.low;
      else modelled[name] = dist;
    }
    if (Object.keys(modelled).length === 0) return params;
    if (this.multivariate) Object.assign(params, this.sampleSpace(study, modelled, trialNumber, rng));
    else for (const [name, dist] of Object.entries(modelled)) Object.assign(params, this.sampleSpace(study, { [name]: dist }, trialNumber, rng));
    // Restore the space's key order.
    return Object.fromEntries(Object.keys(space).map((name) => [name, params[name] as ParamValue]));
  }

  remaining(): number {
    return Infinity;
  }

  /** The trials the estimators see, split into good and bad (exposed for the parity tests). */
  split(study: StudyView, trialNumber: number): { below: TrialRecord[]; above: TrialRecord[] } {
    const states = this.constantLiar ? ['complete', 'pruned', 'running'] : ['complete', 'pruned'];
    const trials = study.trials.filter((t) => t.number !== trialNumber && states.includes(t.state));
    const n = trials.filter((t) => t.state !== 'running').length;
    return splitTrials(trials, study.direction, this.gamma(n));
  }

  /** The good and bad Parzen estimators over `space` (exposed for the parity tests). */
  estimators(study: StudyView, space: SearchSpace, trialNumber: number): { below: ParzenEstimator; above: ParzenEstimator } {
    const { below, above } = this.split(study, trialNumber);
    return {
      below: new ParzenEstimator(observations(below, space), space, this.parzen),
      above: new ParzenEstimator(observations(above, space), space, this.parzen),
    };
  }

  /** The acquisition log l(x) - log g(x) of candidate points (internal representation, per parameter). */
  static acquisition(below: ParzenEstimator, above: ParzenEstimator, candidates: Record<string, number[]>): number[] {
    const l = below.logPdf(candidates);
    const g = above.logPdf(candidates);
    return l.map((v, i) => v - g[i]!);
  }

  private sampleSpace(study: StudyView, space: SearchSpace, trialNumber: number, rng: Rng): Params {
    const { below, above } = this.estimators(study, space, trialNumber);
    const candidates = below.sample(rng, this.nEiCandidates);
    const scores = TpeSampler.acquisition(below, above, candidates);
    const best = argmax(scores);
    const params: Params = {};
    for (const [name, dist] of Object.entries(space)) {
      const internal = candidates[name]![best]!;
      // exp(log(high)) can land one ulp above high: keep log-scale values inside the bounds.
      params[name] = toExternal(dist, dist.type === 'categorical' ? internal : Math.min(Math.max(internal, dist.low), dist.high));
    }
    return params;
  }
}

/** Internal values of the trials that have every parameter of the space, in trial order. */
export function observations(trials: readonly TrialRecord[], space: SearchSpace): Record<string, number[]> {
  const names = Object.keys(space);
  const out: Record<string, number[]> = Object.fromEntries(names.map((name) => [name, []]));
  for (const trial of trials) {
    // Trials without every parameter, or with a value outside the current space (the space was edited), are left out.
    if (!names.every((name) => name in trial.params && contains(space[name]!, trial.params[name] as ParamValue))) continue;
    for (const name of names) out[name]!.push(toInternal(space[name]!, trial.params[name] as ParamValue));
  }
  return out;
}

/** Index of the first largest value (numpy.argmax; NaN wins as it does there). */
export function argmax(values: readonly number[]): number {
  let best = 0;
  for (let i = 0; i < values.length; i++) {
    if (Number.isNaN(values[i]!)) return i;
    if (values[i]! > values[best]!) best = i;
  }
  return best;
}
