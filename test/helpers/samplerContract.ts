/**
 * The rules every sampler promises (src/main/lib/tuning/sampler.ts), as one
 * suite each implementation runs: suggestions lie in the space (bounds, step,
 * integers, choices, single values), seeded determinism, no hidden state, no
 * mutation of the study, failed trials ignored, and `remaining`.
 */
import { describe, expect, it } from 'vitest';
import type { Sampler } from '../../src/main/lib/tuning/sampler';
import { assertParamsInSpace, parseSearchSpace, type SearchSpace } from '../../src/main/lib/tuning/space';
import type { Direction, Params, StudyView, TrialRecord } from '../../src/main/lib/tuning/types';

/** Every kind of distribution, continuous ones included. */
export const CONTRACT_SPACE = parseSearchSpace({
  lr: { type: 'float', low: 1e-5, high: 1e-1, log: true },
  dropout: { type: 'float', low: 0.1, high: 0.6 },
  smoothing: { type: 'float', low: 0, high: 0.2, step: 0.05 },
  units: { type: 'int', low: 128, high: 512, step: 64 },
  batch: { type: 'int', low: 16, high: 128, log: true },
  cell: { type: 'categorical', choices: ['lstm', 'gru'] },
  mixed: { type: 'categorical', choices: [1, 'two', true, null] },
  fixed: { type: 'float', low: 0.5, high: 0.5 },
  only: { type: 'categorical', choices: ['merge'] },
});

/** The same kinds with a finite grid (no continuous float), for samplers that need one. */
export const CONTRACT_GRID_SPACE = parseSearchSpace({
  lr: { type: 'float', low: 1e-5, high: 1e-1, log: true, grid: [1e-5, 1e-3, 1e-1] },
  smoothing: { type: 'float', low: 0, high: 0.2, step: 0.1 },
  units: { type: 'int', low: 128, high: 512, step: 128 },
  cell: { type: 'categorical', choices: ['lstm', 'gru'] },
  mixed: { type: 'categorical', choices: [1, 'two', true, null] },
  only: { type: 'categorical', choices: ['merge'] },
});

/** A deterministic objective over the contract spaces (lower is better). */
export function contractObjective(params: Params): number {
  const lr = typeof params.lr === 'number' ? Math.log10(params.lr) + 3 : 0;
  const units = typeof params.units === 'number' ? (params.units - 320) / 200 : 0;
  const smoothing = typeof params.smoothing === 'number' ? params.smoothing * 5 : 0;
  const dropout = typeof params.dropout === 'number' ? (params.dropout - 0.3) * 4 : 0;
  return lr ** 2 + units ** 2 + smoothing ** 2 + dropout ** 2 + (params.cell === 'gru' ? 0.5 : 0) + (params.mixed === 'two' ? 0 : 0.3);
}

/**
 * Runs `count` trials one after the other (or `parallel` at once: the newest
 * ones stay running while the next is suggested), every 5th trial pruned and
 * every 7th failed, and returns the study with every suggestion.
 */
export function runStudy(sampler: Sampler, space: SearchSpace, count: number, options: { direction?: Direction; parallel?: number } = {}): { study: StudyView; suggestions: Params[] } {
  const trials: TrialRecord[] = [];
  const study: StudyView = { name: 'contract', direction: options.direction ?? 'minimize', trials };
  const suggestions: Params[] = [];
  const parallel = options.parallel ?? 1;
  for (let number = 0; number < count; number++) {
    const params = sampler.suggest({ study, space, trialNumber: number });
    suggestions.push(params);
    const value = (options.direction === 'maximize' ? -1 : 1) * contractObjective(params);
    trials.push({ number, state: 'running', params, intermediate: new Map([[0, value]]) });
    // Finish the oldest running trials so that at most `parallel - 1` stay running.
    const running = trials.filter((t) => t.state === 'running');
    for (const t of running.slice(0, Math.max(0, running.length - (parallel - 1)))) {
      const index = trials.indexOf(t);
      const state = t.number % 7 === 6 ? 'failed' : t.number % 5 === 4 ? 'pruned' : 'complete';
      trials[index] = state === 'complete' ? { ...t, state, value: t.intermediate.get(0)! } : { ...t, state };
    }
  }
  return { study, suggestions };
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    if (value instanceof Map) for (const v of value.values()) deepFreeze(v);
    else for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

export interface SamplerContractOptions {
  /** Builds the sampler with this seed. */
  make: (seed: number) => Sampler;
  /** The space the sampler is tested on (CONTRACT_SPACE unless it needs a finite grid). */
  space: SearchSpace;
  /** Whether different seeds must give different sequences (false for an unscrambled Sobol sequence). */
  seedChangesSequence: boolean;
  /** Whether the sampler runs out of points (grid). */
  finite: boolean;
  trials?: number;
}

export function describeSamplerContract(label: string, options: SamplerContractOptions): void {
  const { make, space } = options;
  const count = options.trials ?? 30;

  describe(`sampler contract: ${label}`, () => {
    it('suggests every parameter of the space, each a value its distribution can produce', () => {
      for (const parallel of [1, 4]) {
        const { suggestions } = runStudy(make(1), space, count, { parallel });
        for (const params of suggestions) {
          assertParamsInSpace(space, params);
          expect(Object.keys(params)).toEqual(Object.keys(space));
        }
      }
    });

    it('respects steps, integers, log bounds, choices and single values', () => {
      const { suggestions } = runStudy(make(2), space, count);
      for (const params of suggestions) {
        const units = space.units;
        if (units?.type === 'int') expect(((params.units as number) - units.low) % units.step).toBe(0);
        if ('batch' in params) expect(Number.isInteger(params.batch)).toBe(true);
        if ('lr' in params) expect(params.lr as number).toBeGreaterThan(0);
        const smoothing = space.smoothing;
        if (smoothing?.type === 'float' && smoothing.step !== undefined) {
          const steps = (params.smoothing as number) / smoothing.step;
          expect(Math.abs(steps - Math.round(steps))).toBeLessThan(1e-9);
        }
        expect(params.only).toBe('merge');
        if ('fixed' in params) expect(params.fixed).toBe(0.5);
      }
      // Over a whole study every choice of a categorical parameter is tried.
      expect(new Set(suggestions.map((p) => JSON.stringify(p.mixed))).size).toBe(4);
      expect(new Set(suggestions.map((p) => p.cell))).toEqual(new Set(['lstm', 'gru']));
    });

    it('is deterministic: the same seed and history give the same suggestions', () => {
      const first = runStudy(make(3), space, count, { parallel: 3 }).suggestions;
      const second = runStudy(make(3), space, count, { parallel: 3 }).suggestions;
      expect(second).toEqual(first);
    });

    it(options.seedChangesSequence ? 'gives a different sequence for a different seed' : 'ignores the seed when the sequence is fixed', () => {
      const a = runStudy(make(4), space, count).suggestions;
      const b = runStudy(make(5), space, count).suggestions;
      if (options.seedChangesSequence) expect(b).not.toEqual(a);
      else expect(b).toEqual(a);
    });

    it('keeps no state between calls: a used sampler and a fresh one suggest the same for the same study', () => {
      const used = make(6);
      const { study } = runStudy(used, space, count);
      const next = { study, space, trialNumber: count };
      expect(used.suggest(next)).toEqual(make(6).suggest(next));
      // Asking twice gives the same answer.
      expect(used.suggest(next)).toEqual(used.suggest(next));
    });

    it('never mutates the study or its trials', () => {
      const { study } = runStudy(make(7), space, count);
      const frozen = deepFreeze({ ...study, trials: study.trials.map((t) => ({ ...t, params: { ...t.params } })) });
      expect(() => make(7).suggest({ study: frozen, space, trialNumber: count })).not.toThrow();
      expect(() => make(7).remaining(frozen, space)).not.toThrow();
    });

    it('ignores failed trials', () => {
      const { study } = runStudy(make(8), space, count);
      const withFailures: StudyView = {
        ...study,
        trials: [
          ...study.trials,
          ...[0, 1, 2].map((i) => ({ number: count + 1 + i, state: 'failed' as const, params: study.trials[i]!.params, intermediate: new Map<number, number>() })),
        ],
      };
      // Asked for a trial number the grid has not reached, so a grid walks the same order either way.
      const trialNumber = options.finite ? 2 : count;
      expect(make(8).suggest({ study: withFailures, space, trialNumber })).toEqual(make(8).suggest({ study, space, trialNumber }));
    });

    it(options.finite ? 'counts down the points it has left' : 'never runs out', () => {
      const sampler = make(9);
      const empty: StudyView = { name: 'contract', direction: 'minimize', trials: [] };
      const total = sampler.remaining(empty, space);
      if (!options.finite) {
        expect(total).toBe(Infinity);
        return;
      }
      expect(Number.isFinite(total) && total > 0).toBe(true);
      const { study } = runStudy(sampler, space, 5);
      expect(sampler.remaining(study, space)).toBe(total - 5);
    });
  });
}
