/**
 * Optuna's SuccessiveHalvingPruner: asynchronous successive halving (ASHA).
 *
 * Rungs: a trial reaches rung r at step minResource · reductionFactor^(minEarlyStoppingRate + r).
 * On reaching a rung it records its value there (attr `completed_rung_r`) and
 * survives only if it is in the top 1/reductionFactor of all values recorded
 * at that rung so far, by any trial (at least the best one always survives).
 * There is no waiting for a full rung: decisions are made with what exists.
 *
 * - minResource 'auto' (default): once some trial is complete,
 *   max(1, floor(its largest step / 100)), fixed from then on; until then
 *   nothing is pruned.
 * - reductionFactor 4, minEarlyStoppingRate 0, bootstrapCount 0 by default;
 *   with bootstrapCount b a rung needs more than b values before anyone
 *   survives it (so it cannot be combined with 'auto').
 * - A NaN value at a rung prunes.
 */
import type { PruneDecision, PruneRequest, Pruner } from '../pruner';
import { lastStep, type Direction, type TrialRecord } from '../types';

export interface SuccessiveHalvingOptions {
  minResource?: number | 'auto';
  reductionFactor?: number;
  minEarlyStoppingRate?: number;
  bootstrapCount?: number;
}

export const rungKey = (rung: number): string => `completed_rung_${rung}`;

/** First rung the trial has not recorded a value at. */
export function currentRung(trial: TrialRecord): number {
  let rung = 0;
  while (trial.attrs && rungKey(rung) in trial.attrs) rung += 1;
  return rung;
}

export function estimateMinResource(trials: readonly TrialRecord[]): number | undefined {
  let last: number | undefined;
  for (const t of trials) {
    if (t.state !== 'complete') continue;
    const step = lastStep(t);
    if (step !== undefined && (last === undefined || step > last)) last = step;
  }
  return last === undefined ? undefined : Math.max(Math.floor(last / 100), 1);
}

function promotable(value: number, competing: number[], reductionFactor: number, direction: Direction): boolean {
  let index = Math.floor(competing.length / reductionFactor) - 1;
  if (index === -1) index = 0;
  competing.sort((a, b) => a - b);
  return direction === 'maximize' ? value >= competing[competing.length - 1 - index]! : value <= competing[index]!;
}

export class SuccessiveHalvingPruner implements Pruner {
  readonly name = 'successiveHalving';
  private minResource: number | undefined;
  readonly reductionFactor: number;
  readonly minEarlyStoppingRate: number;
  readonly bootstrapCount: number;

  constructor(options: SuccessiveHalvingOptions = {}) {
    const minResource = options.minResource ?? 'auto';
    if (minResource !== 'auto' && !(Number.isInteger(minResource) && minResource >= 1)) throw new Error(`pruner option minResource must be 'auto' or a whole number >= 1 (got ${JSON.stringify(minResource)}).`);
    this.reductionFactor = options.reductionFactor ?? 4;
    if (!Number.isInteger(this.reductionFactor) || this.reductionFactor < 2) throw new Error(`pruner option reductionFactor must be a whole number >= 2 (got ${this.reductionFactor}).`);
    this.minEarlyStoppingRate = options.minEarlyStoppingRate ?? 0;
    if (!Number.isInteger(this.minEarlyStoppingRate) || this.minEarlyStoppingRate < 0) throw new Error(`pruner option minEarlyStoppingRate must be a whole number >= 0 (got ${this.minEarlyStoppingRate}).`);
    this.bootstrapCount = options.bootstrapCount ?? 0;
    if (!Number.isInteger(this.bootstrapCount) || this.bootstrapCount < 0) throw new Error(`pruner option bootstrapCount must be a whole number >= 0 (got ${this.bootstrapCount}).`);
    if (this.bootstrapCount > 0 && minResource === 'auto') throw new Error("pruner options bootstrapCount > 0 and minResource 'auto' cannot be combined.");
    this.minResource = minResource === 'auto' ? undefined : minResource;
  }

  /** minResource once known: as given, or once 'auto' was estimated. */
  get knownMinResource(): number | undefined {
    return this.minResource;
  }

  shouldPrune({ study, trial }: PruneRequest): PruneDecision {
    const step = lastStep(trial);
    if (step === undefined) return { prune: false };
    let rung = currentRung(trial);
    const value = trial.intermediate.get(step)!;
    const attrs: Record<string, number> = {};
    const done = (prune: boolean): PruneDecision => (Object.keys(attrs).length > 0 ? { prune, attrs } : { prune });
    for (;;) {
      if (this.minResource === undefined) {
        this.minResource = estimateMinResource(study.trials);
        if (this.minResource === undefined) return done(false);
      }
      const promotionStep = this.minResource * this.reductionFactor ** (this.minEarlyStoppingRate + rung);
      if (step < promotionStep) return done(false);
      if (Number.isNaN(value)) return done(true);
      const key = rungKey(rung);
      attrs[key] = value;
      // Values other trials recorded at this rung, and this one (as Optuna, the snapshot taken before this call's records).
      const competing = study.trials.filter((t) => t.number !== trial.number && t.attrs && key in t.attrs).map((t) => t.attrs![key]!);
      competing.push(value);
      if (competing.length <= this.bootstrapCount) return done(true);
      if (!promotable(value, competing, this.reductionFactor, study.direction)) return done(true);
      rung += 1;
    }
  }
}
