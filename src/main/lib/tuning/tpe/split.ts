/**
 * How TPE divides the history into the good ("below") and the rest ("above"),
 * as Optuna's _split_trials for one objective: the best `nBelow` complete
 * trials by value; if fewer complete trials exist, the best pruned trials fill
 * up (deeper step first, then the better value at that step, NaN worst);
 * running trials always go above (the constant liar: a trial in progress is
 * assumed bad, so parallel workers do not all pile onto the same region).
 * Both groups are returned in trial-number order.
 */
import type { Direction, TrialRecord } from '../types';

/** Optuna's default_gamma: how many trials count as good out of n finished ones. */
export function defaultGamma(n: number): number {
  return Math.min(Math.ceil(0.1 * n), 25);
}

/** Sort key of a pruned trial, compared lexicographically: (-last step, value at it), NaN as +Infinity. */
function prunedScore(trial: TrialRecord, direction: Direction): [number, number] {
  if (trial.intermediate.size === 0) return [1, 0];
  let step = -Infinity;
  for (const s of trial.intermediate.keys()) if (s > step) step = s;
  const value = trial.intermediate.get(step)!;
  if (Number.isNaN(value)) return [-step, Infinity];
  return [-step, direction === 'minimize' ? value : -value];
}

export function splitTrials(trials: readonly TrialRecord[], direction: Direction, nBelow: number): { below: TrialRecord[]; above: TrialRecord[] } {
  const complete = trials.filter((t) => t.state === 'complete');
  const pruned = trials.filter((t) => t.state === 'pruned');
  const running = trials.filter((t) => t.state === 'running');

  const sign = direction === 'minimize' ? 1 : -1;
  // Array.prototype.sort is stable, like Python's sorted: ties keep trial order.
  const sortedComplete = complete.slice().sort((a, b) => sign * ((a.value as number) - (b.value as number)) || 0);
  const nComplete = Math.min(nBelow, sortedComplete.length);
  const below = sortedComplete.slice(0, nComplete);
  const above = sortedComplete.slice(nComplete);

  const rest = Math.max(0, nBelow - below.length);
  const scored = pruned.map((t) => ({ t, key: prunedScore(t, direction) }));
  scored.sort((a, b) => a.key[0] - b.key[0] || (a.key[1] < b.key[1] ? -1 : a.key[1] > b.key[1] ? 1 : 0));
  const nPruned = Math.min(rest, scored.length);
  below.push(...scored.slice(0, nPruned).map((s) => s.t));
  above.push(...scored.slice(nPruned).map((s) => s.t), ...running);

  const byNumber = (a: TrialRecord, b: TrialRecord) => a.number - b.number;
  return { below: below.sort(byNumber), above: above.sort(byNumber) };
}
