/**
 * Best-epoch tracking and early stopping on one validation metric. Plain
 * data, saved in checkpoints, so a resumed run keeps counting patience where
 * the stopped one left off.
 */
import { LEGACY_VALIDATION_KEYS, METRIC_KEYS } from '../../../shared/metricKeys';
import type { EarlyStoppingMetric } from '../../../shared/runConfig';

/** Checkpoints written by earlier versions name the metric `cider`, `bleu4` or `valLoss`. */
const keyOf = (metric: string): EarlyStoppingMetric => LEGACY_VALIDATION_KEYS[metric] ?? (metric as EarlyStoppingMetric);

export interface EarlyStoppingState {
  metric: EarlyStoppingMetric;
  best: number | null;
  bestEpoch: number | null;
  epochsWithoutImprovement: number;
}

export const metricGoal = (metric: EarlyStoppingMetric): 'min' | 'max' => (keyOf(metric) === METRIC_KEYS.valLoss ? 'min' : 'max');

export function initialEarlyStopping(metric: EarlyStoppingMetric): EarlyStoppingState {
  return { metric, best: null, bestEpoch: null, epochsWithoutImprovement: 0 };
}

/** Records an epoch's value; `improved` says whether this epoch is the new best. */
export function recordEpoch(state: EarlyStoppingState, epoch: number, value: number): { state: EarlyStoppingState; improved: boolean } {
  const goal = metricGoal(state.metric);
  const improved = Number.isFinite(value) && (state.best === null || (goal === 'max' ? value > state.best : value < state.best));
  if (improved) return { state: { ...state, best: value, bestEpoch: epoch, epochsWithoutImprovement: 0 }, improved };
  return { state: { ...state, epochsWithoutImprovement: state.epochsWithoutImprovement + 1 }, improved };
}

/** True when `patience` epochs passed without improvement (patience 0 never stops). */
export function shouldStop(state: EarlyStoppingState, patience: number): boolean {
  return patience > 0 && state.epochsWithoutImprovement >= patience;
}

/** The early-stopping metric's value in a validation result. */
export function metricValue(metric: EarlyStoppingMetric, validation: { ciderD: number; bleu4: number; valLoss: number }): number {
  const values: Record<EarlyStoppingMetric, number> = { 'val/ciderD': validation.ciderD, 'val/bleu4': validation.bleu4, 'val/loss': validation.valLoss };
  return values[keyOf(metric)];
}

/** Early stopping as one object: judges an epoch against the state the checkpoint carries. */
export class EarlyStopping {
  constructor(
    readonly metric: EarlyStoppingMetric,
    readonly patience: number,
  ) {}

  get goal(): 'min' | 'max' {
    return metricGoal(this.metric);
  }

  judge(state: EarlyStoppingState, epoch: number, value: number): { state: EarlyStoppingState; improved: boolean; stop: boolean } {
    const next = recordEpoch(state, epoch, value);
    return { ...next, stop: shouldStop(next.state, this.patience) };
  }
}
