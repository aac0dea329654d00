/**
 * How much of a run's schedule its time budget (`training.maxMinutes`)
 * holds, from a measured time per epoch. Told before training, in the run
 * form's estimate and by `captioner train --estimate`, so that a budget that
 * cuts the epochs is no surprise.
 */
import type { RunConfig } from './runConfig';

export interface BudgetFit {
  /** Epochs the budget holds: the loop always finishes its first, then stops before one that would end past the budget. */
  epochs: number;
  /** Epochs the run is configured for. */
  configured: number;
  minutes: number;
}

/** Null without a budget, or when the budget holds every epoch. */
export function budgetFit(config: Pick<RunConfig, 'training'>, secondsPerEpoch: number): BudgetFit | null {
  const minutes = config.training.maxMinutes;
  if (minutes <= 0 || !(secondsPerEpoch > 0)) return null;
  const epochs = Math.max(1, Math.floor((minutes * 60) / secondsPerEpoch));
  if (epochs >= config.training.epochs) return null;
  return { epochs, configured: config.training.epochs, minutes };
}

export function describeBudgetFit(fit: BudgetFit): string {
  return `The ${fit.minutes}-minute budget holds about ${fit.epochs} of the ${fit.configured} epochs on this machine (validation takes some of it); the schedule is cut where it ends.`;
}
