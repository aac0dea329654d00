/**
 * The one interface every pruner implements (none, median, percentile,
 * successive halving, Hyperband): given a running trial that has just
 * reported an intermediate value, and its study, stop it or let it go on.
 *
 * Rules (the pruner contract suite in test/helpers/prunerContract.ts checks
 * them for every implementation):
 *  1. `shouldPrune` is called after each report, with the trial's
 *     intermediate values including the new one. Before a trial's first
 *     report it answers "go on".
 *  2. It never mutates the study or the trial. Bookkeeping it needs later
 *     (successive halving's rung values) comes back in `attrs`; the caller
 *     stores them on the trial (`TrialRecord.attrs`) before the next call for
 *     any trial of the study.
 *  3. It works for both directions: "better" is lower when minimising and
 *     higher when maximising. A NaN intermediate value is the worst possible.
 *  4. It reads complete trials' intermediate values as the reference; failed
 *     trials never count as references.
 *  5. It never prunes during warm-up (n_warmup_steps, the first rung) or
 *     before it has the startup trials it needs (n_startup_trials).
 *  6. One pruner object serves one study. Like Optuna, successive halving and
 *     Hyperband fix their 'auto' resources from the study the first time they
 *     can; a study resumed in a new process estimates them again from the
 *     same history.
 *  7. Bad options throw when the pruner is created, naming the option.
 */
import type { StudyView, TrialRecord } from './types';

export interface PruneRequest {
  study: StudyView;
  /** The running trial, with the value it just reported. */
  trial: TrialRecord;
}

export interface PruneDecision {
  prune: boolean;
  /** Values to store on the trial (merged into `TrialRecord.attrs`). */
  attrs?: Record<string, number>;
}

export interface Pruner {
  /** 'none', 'median', 'percentile', 'successiveHalving' or 'hyperband'. */
  readonly name: string;
  shouldPrune(request: PruneRequest): PruneDecision;
  /**
   * The trials a sampler should learn from when suggesting `trialNumber`'s
   * parameters. Hyperband narrows this to the trial's bracket (as Optuna's
   * samplers see a bracket study); other pruners return the study.
   */
  samplingView?(study: StudyView, trialNumber: number): StudyView;
}

export class NopPruner implements Pruner {
  readonly name = 'none';
  shouldPrune(): PruneDecision {
    return { prune: false };
  }
}
