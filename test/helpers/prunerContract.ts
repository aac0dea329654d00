/**
 * The rules every pruner promises (src/main/lib/tuning/pruner.ts), as one
 * suite each implementation runs: no decision before a report, no mutation,
 * both directions alike, the leader never pruned, NaN is the worst value,
 * hopeless trials stopped, determinism, numeric bookkeeping only.
 */
import { describe, expect, it } from 'vitest';
import type { Pruner } from '../../src/main/lib/tuning/pruner';
import type { StudyView, TrialRecord } from '../../src/main/lib/tuning/types';
import { simulateStudy } from './prunerSimulation';

/** Deterministic learning curves (decreasing losses with noise), `steps` long. */
export function contractCurves(count: number, steps: number, seed = 1): number[][] {
  let state = seed;
  const next = () => (state = (state * 1103515245 + 12345) % 2147483648) / 2147483648;
  return Array.from({ length: count }, () => {
    const start = 1 + 2 * next();
    const floor = 0.1 + 0.7 * next();
    const rate = 0.05 + 0.3 * next();
    return Array.from({ length: steps }, (_, s) => floor + (start - floor) * Math.exp(-rate * s) + 0.01 * next());
  });
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    if (value instanceof Map) for (const v of value.values()) deepFreeze(v);
    else for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

export interface PrunerContractOptions {
  make: () => Pruner;
  /** false for the pruner that never prunes. */
  prunes: boolean;
  steps?: number;
}

export function describePrunerContract(label: string, options: PrunerContractOptions): void {
  const { make } = options;
  const steps = options.steps ?? 12;

  describe(`pruner contract: ${label}`, () => {
    it('lets a trial go on before its first report', () => {
      const { study } = simulateStudy(make(), 'minimize', contractCurves(10, steps), 1);
      const fresh: TrialRecord = { number: study.trials.length, state: 'running', params: {}, intermediate: new Map() };
      expect(make().shouldPrune({ study: { ...study, trials: [...study.trials, fresh] }, trial: fresh }).prune).toBe(false);
    });

    it('never mutates the study or the trial, and keeps only numbers as bookkeeping', () => {
      const { study } = simulateStudy(make(), 'minimize', contractCurves(12, steps), 2);
      const last = study.trials[study.trials.length - 1]!;
      const trial: TrialRecord = { number: last.number + 1, state: 'running', params: {}, intermediate: new Map(last.intermediate) };
      const frozen = deepFreeze({ ...study, trials: [...study.trials.map((t) => ({ ...t, attrs: { ...t.attrs } })), trial] });
      const pruner = make();
      // Same history as the simulation: let the pruner learn its resources first.
      simulateStudy(pruner, 'minimize', contractCurves(12, steps), 2);
      const decision = pruner.shouldPrune({ study: frozen, trial: frozen.trials[frozen.trials.length - 1]! });
      for (const value of Object.values(decision.attrs ?? {})) expect(typeof value).toBe('number');
    });

    it('decides the same when maximising the negated values', () => {
      for (const parallel of [1, 3]) {
        const curves = contractCurves(25, steps, 3);
        const minimize = simulateStudy(make(), 'minimize', curves, parallel).decisions;
        const maximize = simulateStudy(make(), 'maximize', curves.map((c) => c.map((v) => -v)), parallel).decisions;
        expect(maximize).toEqual(minimize);
      }
    });

    it('is deterministic', () => {
      const curves = contractCurves(25, steps, 4);
      expect(simulateStudy(make(), 'minimize', curves, 4).decisions).toEqual(simulateStudy(make(), 'minimize', curves, 4).decisions);
    });

    it('never prunes a trial that is the best at every step', () => {
      const curves = contractCurves(30, steps, 5);
      // Trial 20 is best at every step.
      curves[20] = curves[20]!.map((_, s) => Math.min(...curves.map((c) => c[s]!)) - 0.5);
      const { decisions } = simulateStudy(make(), 'minimize', curves, 2);
      expect(decisions.filter(([n, , pruned]) => n === 20 && pruned)).toEqual([]);
    });

    it(options.prunes ? 'stops hopeless trials and trials that report NaN' : 'never prunes', () => {
      const curves = contractCurves(40, steps, 6);
      const worst = curves.map((c) => Math.max(...c));
      // The last ten trials are far worse than anything else at every step; trial 35 reports NaN throughout.
      for (let i = 30; i < 40; i++) curves[i] = curves[i]!.map(() => Math.max(...worst) + 10 + i);
      curves[35] = curves[35]!.map(() => NaN);
      const { study, decisions } = simulateStudy(make(), 'minimize', curves, 1);
      const pruned = new Set(decisions.filter(([, , p]) => p).map(([n]) => n));
      if (!options.prunes) {
        expect(pruned.size).toBe(0);
        return;
      }
      expect(pruned.has(35)).toBe(true);
      const hopeless = [30, 31, 32, 33, 34, 36, 37, 38, 39].filter((n) => pruned.has(n)).length;
      expect(hopeless).toBeGreaterThanOrEqual(7);
      // Pruned trials stopped before their last step.
      for (const t of study.trials.filter((t: TrialRecord) => t.state === 'pruned')) expect(t.intermediate.size).toBeLessThan(steps);
    });
  });
}

export type { StudyView };
