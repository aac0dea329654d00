/**
 * Runs a study step by step against a pruner, the way the study runner will:
 * up to `parallel` trials are in progress at once and report round robin
 * (one value per trial per round); after each report the pruner decides, and
 * the attrs it returns are stored on the trial. A trial that survives its
 * last step completes with its last value (NaN: it fails, as Optuna fails a
 * trial whose value is NaN). The same loop runs in
 * scripts/make-tuning-goldens.py with Optuna's pruners.
 */
import type { Pruner } from '../../src/main/lib/tuning/pruner';
import type { Direction, StudyView, TrialRecord } from '../../src/main/lib/tuning/types';

export type Decision = [trialNumber: number, step: number, pruned: boolean];

interface MutableTrial extends TrialRecord {
  intermediate: Map<number, number>;
  attrs: Record<string, number>;
}

export function simulateStudy(pruner: Pruner, direction: Direction, curves: number[][], parallel: number, name = 'simulated'): { decisions: Decision[]; study: StudyView } {
  const trials: MutableTrial[] = [];
  const study: StudyView = { name, direction, trials };
  const decisions: Decision[] = [];
  const pending = curves.map((_, i) => i);
  let active: Array<{ trial: MutableTrial; curve: number[]; step: number }> = [];
  while (pending.length > 0 || active.length > 0) {
    while (pending.length > 0 && active.length < parallel) {
      const index = pending.shift()!;
      const trial: MutableTrial = { number: trials.length, state: 'running', params: {}, intermediate: new Map(), attrs: {} };
      trials.push(trial);
      active.push({ trial, curve: curves[index]!, step: 0 });
    }
    const still: typeof active = [];
    for (const entry of active) {
      const { trial, curve, step } = entry;
      trial.intermediate.set(step, curve[step]!);
      const decision = pruner.shouldPrune({ study, trial });
      Object.assign(trial.attrs, decision.attrs ?? {});
      decisions.push([trial.number, step, decision.prune]);
      if (decision.prune) trial.state = 'pruned';
      else if (step + 1 === curve.length) {
        const value = curve[step]!;
        if (Number.isNaN(value)) trial.state = 'failed';
        else {
          trial.state = 'complete';
          trial.value = value;
        }
      } else {
        entry.step = step + 1;
        still.push(entry);
      }
    }
    active = still;
  }
  return { decisions, study };
}
