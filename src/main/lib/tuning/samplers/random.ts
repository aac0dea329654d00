/**
 * Uniform random search, as Optuna's RandomSampler: a uniform draw in each
 * parameter's transformed interval (log scale for log parameters, half a step
 * wider on each side for stepped ones), mapped back to a legal value.
 * Categorical parameters take each choice with equal probability.
 */
import { trialRng, uniform53, type Rng } from '../rng';
import type { Sampler, SuggestRequest } from '../sampler';
import type { Distribution, SearchSpace } from '../space';
import { transformedBounds, untransform } from '../transform';
import type { ParamValue, Params } from '../types';

export interface RandomSamplerOptions {
  seed?: number;
}

/** One uniform value of a distribution (shared by TPE's start-up trials). */
export function sampleUniform(dist: Distribution, rng: Rng): ParamValue {
  if (dist.type === 'categorical') return dist.choices[rng.int(dist.choices.length)] as ParamValue;
  const [low, high] = transformedBounds(dist);
  return untransform(dist, low + uniform53(rng) * (high - low));
}

export function sampleUniformParams(space: SearchSpace, rng: Rng): Params {
  const params: Params = {};
  for (const [name, dist] of Object.entries(space)) params[name] = sampleUniform(dist, rng);
  return params;
}

export class RandomSampler implements Sampler {
  readonly name = 'random';
  private readonly seed: number;

  constructor(options: RandomSamplerOptions = {}) {
    this.seed = options.seed ?? 0;
  }

  suggest({ space, trialNumber }: SuggestRequest): Params {
    return sampleUniformParams(space, trialRng(this.seed, this.name, trialNumber));
  }

  remaining(): number {
    return Infinity;
  }
}
