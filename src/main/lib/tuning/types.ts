/**
 * The plain data a sampler, a pruner and an importance evaluator see: a study
 * is its name, its direction and its trials, each with the parameters it was
 * given, its state, its objective value and the values it reported per step.
 * Nothing here knows about the store or the training loop; the study runner
 * maps store rows onto these records.
 */

/** A parameter value as the objective sees it: a number for float and int parameters, a choice for categorical ones. */
export type ParamValue = number | string | boolean | null;
export type Params = Record<string, ParamValue>;

export type Direction = 'minimize' | 'maximize';

/**
 * running: suggested and being evaluated; complete: has a final value; pruned:
 * stopped early by a pruner (its last intermediate value stands for it);
 * failed: crashed or returned no usable value (ignored by samplers and pruners).
 */
export type TrialState = 'running' | 'complete' | 'pruned' | 'failed';

export interface TrialRecord {
  /** 0-based, in creation order, unique within the study. */
  number: number;
  state: TrialState;
  params: Params;
  /** The objective value; set for complete trials only. */
  value?: number;
  /** Value reported at each step (epoch), keyed by the step. NaN is allowed and counts as the worst value. */
  intermediate: ReadonlyMap<number, number>;
  /**
   * Bookkeeping a pruner asked to keep with the trial (see `PruneDecision.attrs`),
   * e.g. the successive-halving rungs it has passed.
   */
  attrs?: Readonly<Record<string, number>>;
}

export interface StudyView {
  /** Used by Hyperband to assign trials to brackets (as Optuna does with the study name). */
  name: string;
  direction: Direction;
  /** Every trial of the study in any state, in trial-number order. */
  trials: readonly TrialRecord[];
}

/** The largest step a trial reported, or undefined before its first report. */
export function lastStep(trial: TrialRecord): number | undefined {
  let last: number | undefined;
  for (const step of trial.intermediate.keys()) if (last === undefined || step > last) last = step;
  return last;
}

/** Builds an intermediate-value map from a plain object or a list of pairs (fixtures, JSON from the store). */
export function intermediateFrom(values: Record<string, number> | ReadonlyArray<readonly [number, number]> = []): Map<number, number> {
  const entries = Array.isArray(values) ? values : Object.entries(values).map(([step, value]) => [Number(step), value] as const);
  return new Map(entries.map(([step, value]) => [Number(step), value]));
}
