/**
 * Pruning decisions that are a function of what the store holds, so a study
 * task that restarts (crash, stop and resume, another worker taking it over)
 * decides exactly as one that never stopped.
 *
 * The tuning library's pruners keep two kinds of state in memory, as
 * Optuna's do: successive halving's rung records (`completed_rung_<r>`
 * attrs the caller keeps per trial) and the 'auto' resources that successive
 * halving (minResource) and Hyperband (maxResource) fix the first time a
 * trial is complete. Neither survives a restart. Here both come from stored
 * rows on every decision:
 *
 * - rung r of a trial is its intermediate value at the first step it
 *   reported at or beyond minResource · reductionFactor^(rate + r) (rate:
 *   minEarlyStoppingRate, or the trial's Hyperband bracket), for every rung
 *   it reached; a trial's value at a rung is what the pruner recorded when it
 *   was asked at that step, since the study asks after every stored value;
 * - an 'auto' resource is estimated from the first trial to complete (by its
 *   finish time, then number), which is the trial Optuna's pruner fixes it
 *   from in a study whose trials finish one per pruner call.
 *
 * Median and percentile pruners hold no state and are asked as they are.
 */
import type { StudyRecord, TrialIntermediate, TrialRecord as StoredTrial } from '../../shared/storeTypes';
import { createPruner, HyperbandPruner, SuccessiveHalvingPruner, type PruneDecision, type Pruner, type StudyView, type TrialRecord } from '../lib/tuning';
import { rungKey } from '../lib/tuning/pruners/successiveHalving';
import { toStudyView } from './studyView';

export interface StoredTrialRow {
  trial: StoredTrial;
  intermediates: readonly TrialIntermediate[];
}

/** Successive halving's rung schedule for one trial. */
interface Rungs {
  minResource: number;
  reductionFactor: number;
  rate: number;
}

/** The completed_rung_<r> attrs a trial has earned with the values it reported before `beforeStep` (all when undefined). */
export function derivedRungAttrs(intermediates: ReadonlyMap<number, number>, rungs: Rungs, beforeStep?: number): Record<string, number> {
  const steps = [...intermediates.keys()].filter((step) => beforeStep === undefined || step < beforeStep).sort((a, b) => a - b);
  const attrs: Record<string, number> = {};
  for (let rung = 0; ; rung++) {
    const promotionStep = rungs.minResource * rungs.reductionFactor ** (rungs.rate + rung);
    const step = steps.find((s) => s >= promotionStep);
    if (step === undefined) return attrs;
    attrs[rungKey(rung)] = intermediates.get(step)!;
  }
}

/** The spec a study stores for its pruner: a name or `{ name, options }`. */
function prunerSpec(text: string): { name: string; options: Record<string, unknown> } {
  const trimmed = text.trim();
  const spec = (trimmed.startsWith('{') ? JSON.parse(trimmed) : { name: trimmed }) as { name: string; options?: Record<string, unknown> };
  const name = spec.name === 'halving' ? 'successiveHalving' : spec.name;
  return { name, options: { ...spec.options } };
}

/** The first trial to complete (finish time, then number), and its last step. */
function firstCompleteLastStep(rows: readonly StoredTrialRow[]): number | undefined {
  const complete = rows
    .filter((row) => row.trial.state === 'completed' && row.trial.value !== null && row.intermediates.length > 0)
    .sort((a, b) => (a.trial.finishedAt ?? '').localeCompare(b.trial.finishedAt ?? '') || a.trial.number - b.trial.number);
  const first = complete[0];
  return first ? Math.max(...first.intermediates.map((point) => point.step)) : undefined;
}

export class StoredPruning {
  private readonly spec: { name: string; options: Record<string, unknown> };

  constructor(
    private readonly study: StudyRecord,
    /** The study's pruner as studySettings built it (validated); used as is when it keeps no state. */
    private readonly pruner: Pruner,
  ) {
    this.spec = prunerSpec(study.pruner);
  }

  /**
   * Whether the trial numbered `trialNumber`, whose newest stored value is
   * the one just reported, should stop. `rows` are the study's trials with
   * their stored intermediate values (enqueued trials still waiting left out).
   */
  decide(rows: readonly StoredTrialRow[], trialNumber: number): PruneDecision {
    const view = toStudyView(this.study, rows);
    const trial = view.trials.find((t) => t.number === trialNumber);
    if (!trial) throw new Error(`Trial ${trialNumber} of study ${this.study.name} is not among its trials.`);
    const resolved = this.resolved(rows);
    if (resolved === null) return this.pruner.shouldPrune({ study: view, trial });
    if (resolved === undefined) return { prune: false };
    // Bracket of every trial (Hyperband) before the rungs are read.
    if (resolved instanceof HyperbandPruner) resolved.initialize(view);
    const rungsOf = (t: TrialRecord): Rungs =>
      resolved instanceof HyperbandPruner
        ? { minResource: resolved.minResource, reductionFactor: resolved.reductionFactor, rate: resolved.bracketOf(view.name, t.number) }
        : { minResource: resolved.knownMinResource!, reductionFactor: resolved.reductionFactor, rate: resolved.minEarlyStoppingRate };
    const current = Math.max(...trial.intermediate.keys());
    const withAttrs = (t: TrialRecord): TrialRecord => ({ ...t, attrs: derivedRungAttrs(t.intermediate, rungsOf(t), t.number === trialNumber ? current : undefined) });
    const study: StudyView = { ...view, trials: view.trials.map(withAttrs) };
    return resolved.shouldPrune({ study, trial: withAttrs(trial) });
  }

  /** The trials a sampler learns from for trial `trialNumber` (Hyperband: its bracket, once the brackets are known). */
  samplingView(rows: readonly StoredTrialRow[], trialNumber: number): StudyView {
    const view = toStudyView(this.study, rows);
    const resolved = this.resolved(rows);
    if (resolved === null) return this.pruner.samplingView?.(view, trialNumber) ?? view;
    if (resolved instanceof HyperbandPruner) {
      // Brackets as soon as the resources are known (Optuna sets them up at the first report; a restarted task could not tell when that was).
      resolved.initialize(view);
      return resolved.samplingView(view, trialNumber);
    }
    return view;
  }

  /**
   * A fresh successive-halving or Hyperband pruner with its resources fixed
   * from the stored trials; undefined while an 'auto' resource cannot be
   * known yet (no trial completed); null for a pruner without state.
   */
  private resolved(rows: readonly StoredTrialRow[]): SuccessiveHalvingPruner | HyperbandPruner | null | undefined {
    const { name, options } = this.spec;
    if (name === 'successiveHalving') {
      if (options.minResource !== undefined && options.minResource !== 'auto') return createPruner({ name, options } as never) as SuccessiveHalvingPruner;
      const last = firstCompleteLastStep(rows);
      return last === undefined ? undefined : (createPruner({ name, options: { ...options, minResource: Math.max(1, Math.floor(last / 100)) } } as never) as SuccessiveHalvingPruner);
    }
    if (name === 'hyperband') {
      if (options.maxResource !== undefined && options.maxResource !== 'auto') return createPruner({ name, options } as never) as HyperbandPruner;
      const last = firstCompleteLastStep(rows);
      return last === undefined ? undefined : (createPruner({ name, options: { ...options, maxResource: Math.max(last + 1, (options.minResource as number | undefined) ?? 1) } } as never) as HyperbandPruner);
    }
    return null;
  }
}
