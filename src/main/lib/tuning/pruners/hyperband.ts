/**
 * Optuna's HyperbandPruner: several successive-halving brackets that differ
 * in how early they start pruning (bracket b has minEarlyStoppingRate b).
 *
 * - maxResource 'auto' (default): once some trial is complete, its largest
 *   step + 1. Until then nothing is pruned.
 * - Brackets: floor(log_reductionFactor(maxResource / minResource)) + 1;
 *   bracket b gets a budget of ceil(n · η^s / (s + 1)) with s = n - 1 - b.
 * - A trial's bracket: crc32("<study name>_<trial number>") modulo the total
 *   budget, walked through the bracket budgets in order (Optuna's rule, so the
 *   same study name gives the same assignment as Optuna).
 * - Each bracket is judged only against trials of the same bracket, and the
 *   sampler learns only from them (`samplingView`), as in Optuna.
 * - Defaults: minResource 1, reductionFactor 3, bootstrapCount 0.
 */
import type { PruneDecision, PruneRequest, Pruner } from '../pruner';
import { lastStep, type StudyView, type TrialRecord } from '../types';
import { crc32 } from '../crc32';
import { SuccessiveHalvingPruner } from './successiveHalving';

export interface HyperbandOptions {
  minResource?: number;
  maxResource?: number | 'auto';
  reductionFactor?: number;
  bootstrapCount?: number;
}

export class HyperbandPruner implements Pruner {
  readonly name = 'hyperband';
  readonly minResource: number;
  private maxResource: number | 'auto';
  readonly reductionFactor: number;
  readonly bootstrapCount: number;
  private brackets: SuccessiveHalvingPruner[] = [];
  private budgets: number[] = [];
  private totalBudget = 0;

  constructor(options: HyperbandOptions = {}) {
    this.minResource = options.minResource ?? 1;
    if (!Number.isInteger(this.minResource) || this.minResource < 1) throw new Error(`pruner option minResource must be a whole number >= 1 (got ${this.minResource}).`);
    this.maxResource = options.maxResource ?? 'auto';
    if (this.maxResource !== 'auto' && !(Number.isInteger(this.maxResource) && this.maxResource >= this.minResource)) throw new Error(`pruner option maxResource must be 'auto' or a whole number >= minResource (got ${JSON.stringify(this.maxResource)}).`);
    this.reductionFactor = options.reductionFactor ?? 3;
    if (!Number.isInteger(this.reductionFactor) || this.reductionFactor < 2) throw new Error(`pruner option reductionFactor must be a whole number >= 2 (got ${this.reductionFactor}).`);
    this.bootstrapCount = options.bootstrapCount ?? 0;
    if (!Number.isInteger(this.bootstrapCount) || this.bootstrapCount < 0) throw new Error(`pruner option bootstrapCount must be a whole number >= 0 (got ${this.bootstrapCount}).`);
    if (this.bootstrapCount > 0 && this.maxResource === 'auto') throw new Error("pruner options bootstrapCount > 0 and maxResource 'auto' cannot be combined.");
  }

  /** Number of brackets once known (0 before maxResource could be estimated). */
  get bracketCount(): number {
    return this.brackets.length;
  }

  shouldPrune({ study, trial }: PruneRequest): PruneDecision {
    if (this.brackets.length === 0) {
      this.initialize(study);
      if (this.brackets.length === 0) return { prune: false };
    }
    const bracket = this.bracketOf(study.name, trial.number);
    return this.brackets[bracket]!.shouldPrune({ study: this.bracketStudy(study, bracket), trial });
  }

  samplingView(study: StudyView, trialNumber: number): StudyView {
    return this.bracketStudy(study, this.bracketOf(study.name, trialNumber));
  }

  /** The bracket a trial belongs to (0 while the brackets are not set up yet). */
  bracketOf(studyName: string, trialNumber: number): number {
    if (this.brackets.length === 0) return 0;
    let n = crc32(`${studyName}_${trialNumber}`) % this.totalBudget;
    for (let b = 0; b < this.budgets.length; b++) {
      n -= this.budgets[b]!;
      if (n < 0) return b;
    }
    throw new Error('hyperband: bracket budgets do not cover the total (unreachable).');
  }

  private bracketStudy(study: StudyView, bracket: number): StudyView {
    return { ...study, trials: study.trials.filter((t: TrialRecord) => this.bracketOf(study.name, t.number) === bracket) };
  }

  /**
   * Sets up the brackets (done by the first `shouldPrune`): at once with a
   * given maxResource, or once a trial of `study` is complete for 'auto'.
   */
  initialize(study: StudyView): void {
    if (this.brackets.length > 0) return;
    if (this.maxResource === 'auto') {
      const steps = study.trials.filter((t) => t.state === 'complete').map(lastStep).filter((s): s is number => s !== undefined);
      if (steps.length === 0) return;
      this.maxResource = Math.max(...steps) + 1;
    }
    // Python's math.log(x, base) is log(x) / log(base).
    const n = Math.floor(Math.log(this.maxResource / this.minResource) / Math.log(this.reductionFactor)) + 1;
    for (let b = 0; b < n; b++) {
      const s = n - 1 - b;
      const budget = Math.ceil((n * this.reductionFactor ** s) / (s + 1));
      this.budgets.push(budget);
      this.totalBudget += budget;
      this.brackets.push(
        new SuccessiveHalvingPruner({ minResource: this.minResource, reductionFactor: this.reductionFactor, minEarlyStoppingRate: b, bootstrapCount: this.bootstrapCount }),
      );
    }
  }
}
