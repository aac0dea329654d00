import { describe, expect, it } from 'vitest';
import { ImportanceCache } from '../../src/main/lib/tuning/importance/cache';
import { normalizeImportances, PedAnovaEvaluator } from '../../src/main/lib/tuning/importance/pedAnova';
import { RandomSampler } from '../../src/main/lib/tuning/samplers/random';
import { parseSearchSpace } from '../../src/main/lib/tuning/space';
import type { StudyView, TrialRecord } from '../../src/main/lib/tuning/types';

const space = parseSearchSpace({
  lr: { type: 'float', low: 1e-5, high: 1e-1, log: true },
  noise: { type: 'float', low: 0, high: 1 },
  cell: { type: 'categorical', choices: ['lstm', 'gru', 'rnn'] },
  units: { type: 'int', low: 32, high: 512, step: 32 },
});

function study(n: number, direction: 'minimize' | 'maximize' = 'minimize'): StudyView {
  const sampler = new RandomSampler({ seed: 5 });
  const trials: TrialRecord[] = [];
  const view: StudyView = { name: 'imp', direction, trials };
  for (let number = 0; number < n; number++) {
    const params = sampler.suggest({ study: view, space, trialNumber: number });
    // Only the learning rate matters much, the cell a little, the rest not at all.
    const loss = (Math.log10(params.lr as number) + 3) ** 2 + (params.cell === 'rnn' ? 0.3 : 0);
    trials.push({ number, state: 'complete', params, value: direction === 'minimize' ? loss : -loss, intermediate: new Map() });
  }
  return view;
}

describe('PED-ANOVA importance', () => {
  it('ranks the parameter that drives the objective first, the same in both directions', () => {
    const normalized = normalizeImportances(new PedAnovaEvaluator().evaluate(study(120), space));
    expect(Object.keys(normalized)[0]).toBe('lr');
    expect(normalized.lr!).toBeGreaterThan(0.5);
    expect(Object.values(normalized).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
    expect(normalizeImportances(new PedAnovaEvaluator().evaluate(study(120, 'maximize'), space))).toEqual(normalized);
  });

  it('gives zeros with one trial, equal shares after normalising, and ignores unfinished trials', () => {
    const one = study(1);
    expect(new PedAnovaEvaluator().evaluate(one, space)).toEqual({ lr: 0, noise: 0, cell: 0, units: 0 });
    expect(normalizeImportances({ a: 0, b: 0 })).toEqual({ a: 0.5, b: 0.5 });
    const base = study(40);
    const extra: StudyView = { ...base, trials: [...base.trials, { number: 40, state: 'running', params: base.trials[0]!.params, intermediate: new Map() }] };
    expect(new PedAnovaEvaluator().evaluate(extra, space)).toEqual(new PedAnovaEvaluator().evaluate(base, space));
  });

  it('rejects quantiles out of order', () => {
    expect(() => new PedAnovaEvaluator({ targetQuantile: 0.5, regionQuantile: 0.4 })).toThrow(/targetQuantile/);
  });

  it('is cached until the number of complete trials changes', () => {
    const cache = new ImportanceCache();
    const s = study(50);
    const first = cache.get(s, space);
    expect(cache.get({ ...s, trials: [...s.trials, { number: 50, state: 'running', params: s.trials[1]!.params, intermediate: new Map() }] }, space)).toBe(first);
    expect(cache.computations).toBe(1);
    const more = study(51);
    const second = cache.get(more, space);
    expect(second.completeTrials).toBe(51);
    expect(cache.computations).toBe(2);
    expect(second).not.toBe(first);
  });
});
