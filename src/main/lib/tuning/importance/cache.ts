/**
 * Importances are recomputed only when the number of complete trials
 * changes: the study page asks often, the answer only moves when a trial
 * completes. One cache per study; the key also covers the space and options,
 * so editing either gives a fresh answer.
 */
import type { SearchSpace } from '../space';
import type { StudyView } from '../types';
import { normalizeImportances, PedAnovaEvaluator, type PedAnovaOptions } from './pedAnova';

export interface ImportanceResult {
  /** Complete trials the importances were computed from. */
  completeTrials: number;
  raw: Record<string, number>;
  /** Summing to 1, most important first. */
  normalized: Record<string, number>;
}

export class ImportanceCache {
  private key: string | undefined;
  private result: ImportanceResult | undefined;
  /** How many times the importances were actually computed (for tests and diagnostics). */
  computations = 0;

  constructor(private readonly options: PedAnovaOptions = {}) {}

  get(study: StudyView, space: SearchSpace): ImportanceResult {
    const completeTrials = study.trials.filter((t) => t.state === 'complete').length;
    const key = JSON.stringify([completeTrials, study.direction, space, this.options]);
    if (this.result && key === this.key) return this.result;
    const raw = new PedAnovaEvaluator(this.options).evaluate(study, space);
    this.computations += 1;
    this.key = key;
    this.result = { completeTrials, raw, normalized: normalizeImportances(raw) };
    return this.result;
  }
}
