/**
 * Optuna's PercentilePruner and MedianPruner (percentile 50): prune a trial
 * whose best value so far is worse than the given percentile of the complete
 * trials' values at the same step.
 *
 * - Nothing is pruned until `nStartupTrials` trials are complete (default 5),
 *   before step `nWarmupSteps` (default 0), or at steps that are not the first
 *   report in an interval of `intervalSteps` after warm-up (default 1).
 * - The reference needs at least `nMinTrials` complete trials that reported
 *   at this step (default 1); otherwise the trial goes on.
 * - A trial whose every value is NaN is pruned.
 * - The percentile is NumPy's nanpercentile (linear interpolation); when
 *   maximising, the (100 - p)th percentile, so "worse than 25%" stays the
 *   bottom quarter.
 */
import type { PruneDecision, PruneRequest, Pruner } from '../pruner';
import { lastStep, type Direction, type TrialRecord } from '../types';

export interface PercentilePrunerOptions {
  percentile: number;
  nStartupTrials?: number;
  nWarmupSteps?: number;
  intervalSteps?: number;
  nMinTrials?: number;
}

/** numpy.nanpercentile with linear interpolation (NaN if every value is NaN). */
export function nanPercentile(values: readonly number[], percentile: number): number {
  const sorted = values.filter((v) => !Number.isNaN(v)).sort((a, b) => a - b);
  if (sorted.length === 0) return NaN;
  const position = (percentile / 100) * (sorted.length - 1);
  const lower = Math.floor(position);
  const upper = Math.min(lower + 1, sorted.length - 1);
  const fraction = position - lower;
  const a = sorted[lower]!;
  const b = sorted[upper]!;
  // numpy's _lerp: a + (b - a) * t, computed from the nearer end for t >= 0.5.
  const diff = b - a;
  const lerp = fraction >= 0.5 ? b - diff * (1 - fraction) : a + diff * fraction;
  return a === b ? a : lerp;
}

/** Whether `step` is the first report at or after the latest pruning point of its interval. */
export function isFirstInIntervalStep(step: number, steps: Iterable<number>, nWarmupSteps: number, intervalSteps: number): boolean {
  const nearestLowerPruningStep = Math.floor((step - nWarmupSteps) / intervalSteps) * intervalSteps + nWarmupSteps;
  let secondLast = -1;
  for (const s of steps) if (s > secondLast && s !== step) secondLast = s;
  return secondLast < nearestLowerPruningStep;
}

function bestSoFar(trial: TrialRecord, direction: Direction): number {
  const values = [...trial.intermediate.values()].filter((v) => !Number.isNaN(v));
  if (values.length === 0) return NaN;
  return direction === 'maximize' ? Math.max(...values) : Math.min(...values);
}

function checkWhole(name: string, value: number, min: number): number {
  if (!Number.isInteger(value) || value < min) throw new Error(`pruner option ${name} must be a whole number >= ${min} (got ${value}).`);
  return value;
}

export class PercentilePruner implements Pruner {
  readonly name: string = 'percentile';
  readonly percentile: number;
  readonly nStartupTrials: number;
  readonly nWarmupSteps: number;
  readonly intervalSteps: number;
  readonly nMinTrials: number;

  constructor(options: PercentilePrunerOptions) {
    if (!(options.percentile >= 0 && options.percentile <= 100)) throw new Error(`pruner option percentile must be between 0 and 100 (got ${options.percentile}).`);
    this.percentile = options.percentile;
    this.nStartupTrials = checkWhole('nStartupTrials', options.nStartupTrials ?? 5, 0);
    this.nWarmupSteps = checkWhole('nWarmupSteps', options.nWarmupSteps ?? 0, 0);
    this.intervalSteps = checkWhole('intervalSteps', options.intervalSteps ?? 1, 1);
    this.nMinTrials = checkWhole('nMinTrials', options.nMinTrials ?? 1, 1);
  }

  shouldPrune({ study, trial }: PruneRequest): PruneDecision {
    const complete = study.trials.filter((t) => t.state === 'complete');
    if (complete.length === 0 || complete.length < this.nStartupTrials) return { prune: false };
    const step = lastStep(trial);
    if (step === undefined || step < this.nWarmupSteps) return { prune: false };
    if (!isFirstInIntervalStep(step, trial.intermediate.keys(), this.nWarmupSteps, this.intervalSteps)) return { prune: false };
    const best = bestSoFar(trial, study.direction);
    if (Number.isNaN(best)) return { prune: true };
    const atStep = complete.filter((t) => t.intermediate.has(step)).map((t) => t.intermediate.get(step)!);
    if (atStep.length < this.nMinTrials) return { prune: false };
    const reference = nanPercentile(atStep, study.direction === 'maximize' ? 100 - this.percentile : this.percentile);
    if (Number.isNaN(reference)) return { prune: false };
    return { prune: study.direction === 'maximize' ? best < reference : best > reference };
  }
}

export class MedianPruner extends PercentilePruner {
  override readonly name = 'median';
  constructor(options: Omit<PercentilePrunerOptions, 'percentile'> = {}) {
    super({ ...options, percentile: 50 });
  }
}
