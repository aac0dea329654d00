/**
 * The one interface every sampler implements (random, grid, Sobol, TPE).
 *
 * Rules (the sampler contract suite in test/helpers/samplerContract.ts checks
 * them for every implementation):
 *  1. `suggest` returns a value for every parameter of `space` and nothing
 *     else, each one a value the distribution can produce: inside [low, high],
 *     on the step grid, an integer for int parameters, one of the choices for
 *     categorical ones. A parameter with a single possible value gets it.
 *  2. It is a pure function of (sampler options and seed, space, the study's
 *     trials, trialNumber): the same inputs give the same suggestion, in any
 *     process, whatever was suggested before. Nothing is kept between calls.
 *  3. It reads only trials other than `trialNumber`. Complete trials count by
 *     their value, pruned trials by their last intermediate value (samplers
 *     that learn from history decide how), running trials at most as "being
 *     evaluated" (TPE's constant liar), failed trials not at all.
 *  4. It never mutates the study or its trials.
 *  5. A sampler that can run out of new points (grid) reports it through
 *     `remaining`; the study runner stops creating trials at 0. Others return
 *     Infinity.
 *  6. Bad options throw when the sampler is created; a space the sampler
 *     cannot handle (a continuous float on a grid) throws from `suggest` and
 *     `remaining` with the parameter's name.
 */
import type { SearchSpace } from './space';
import type { Params, StudyView } from './types';

export interface SuggestRequest {
  study: StudyView;
  space: SearchSpace;
  /** The number of the trial being created (it may already be in `study.trials` as running). */
  trialNumber: number;
}

export interface Sampler {
  /** 'random', 'grid', 'sobol' or 'tpe'. */
  readonly name: string;
  suggest(request: SuggestRequest): Params;
  /** How many new points are left to suggest (Infinity when the sampler never runs out). */
  remaining(study: StudyView, space: SearchSpace): number;
}

/** Trials a learning sampler may learn from: complete and pruned, never the one being created. */
export function finishedTrials(study: StudyView, exceptNumber: number) {
  return study.trials.filter((trial) => trial.number !== exceptNumber && (trial.state === 'complete' || trial.state === 'pruned'));
}
