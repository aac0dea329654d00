/**
 * Hyperparameter tuning algorithms in plain TypeScript (no tfjs, no store):
 * search spaces over RunConfig paths, samplers (TPE, random, grid, Sobol),
 * pruners (median, percentile, successive halving, Hyperband, none) and
 * PED-ANOVA parameter importance, each reimplemented from Optuna 5.0 and
 * checked against it (test/unit/tuning.parity.test.ts). See docs/tuning.md.
 */
export type { Direction, ParamValue, Params, StudyView, TrialRecord, TrialState } from './types';
export { intermediateFrom, lastStep } from './types';
export {
  assertParamsInSpace,
  contains,
  describeDistribution,
  isSingle,
  paramsToOverrides,
  parseDistribution,
  parseSearchSpace,
  searchSpaceToJson,
  SearchSpaceError,
  type CategoricalDistribution,
  type Distribution,
  type FloatDistribution,
  type IntDistribution,
  type SearchSpace,
} from './space';
export { assertSpaceFitsRunConfig, defaultSearchSpace } from './defaultSpace';
export type { Sampler, SuggestRequest } from './sampler';
export type { PruneDecision, PruneRequest, Pruner } from './pruner';
export { NopPruner } from './pruner';
export { RandomSampler } from './samplers/random';
export { GridSampler } from './samplers/grid';
export { SobolSampler, SobolSequence } from './samplers/sobol';
export { TpeSampler, TPE_DEFAULTS, type TpeSamplerOptions } from './tpe/tpeSampler';
export { MedianPruner, PercentilePruner } from './pruners/percentile';
export { SuccessiveHalvingPruner } from './pruners/successiveHalving';
export { HyperbandPruner } from './pruners/hyperband';
export { createPruner, createSampler, prunerAliases, prunerNames, samplerNames, type PrunerSpec, type SamplerSpec } from './factory';
export { normalizeImportances, PedAnovaEvaluator, type PedAnovaOptions } from './importance/pedAnova';
export { ImportanceCache, type ImportanceResult } from './importance/cache';
