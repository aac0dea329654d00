/**
 * The store's view of a study (trials with their states, values and
 * intermediate values) as the tuning library's StudyView. States map as the
 * samplers and pruners expect: queued and running trials are `running`
 * (being evaluated), completed ones `complete`, pruned ones `pruned`, and
 * failed, cancelled or crashed ones `failed` (ignored).
 */
import type { StudyRecord, TrialIntermediate, TrialRecord as StoredTrial, TrialState as StoredState } from '../../shared/storeTypes';
import type { Params, StudyView, TrialRecord, TrialState } from '../lib/tuning';

const STATE: Record<StoredState, TrialState> = {
  queued: 'running',
  running: 'running',
  completed: 'complete',
  pruned: 'pruned',
  failed: 'failed',
  cancelled: 'failed',
  crashed: 'failed',
};

export function toTrialRecord(trial: StoredTrial, intermediates: readonly TrialIntermediate[], attrs?: Record<string, number>): TrialRecord {
  const state = STATE[trial.state];
  return {
    number: trial.number,
    state,
    params: trial.params as Params,
    ...(state === 'complete' && trial.value !== null ? { value: trial.value } : {}),
    intermediate: new Map(intermediates.map((point) => [point.step, point.value])),
    ...(attrs ? { attrs } : {}),
  };
}

export function toStudyView(study: StudyRecord, trials: ReadonlyArray<{ trial: StoredTrial; intermediates: readonly TrialIntermediate[]; attrs?: Record<string, number> }>): StudyView {
  return {
    name: study.name,
    direction: study.direction,
    // A completed trial without a value (should not happen) counts as failed rather than poisoning the split.
    trials: trials.map(({ trial, intermediates, attrs }) => {
      const record = toTrialRecord(trial, intermediates, attrs);
      return record.state === 'complete' && record.value === undefined ? { ...record, state: 'failed' as const } : record;
    }),
  };
}
