import { describe, expect, it } from 'vitest';
import { createSampler } from '../../src/main/lib/tuning/factory';
import { GridSampler } from '../../src/main/lib/tuning/samplers/grid';
import { RandomSampler } from '../../src/main/lib/tuning/samplers/random';
import { SobolSampler, SobolSequence } from '../../src/main/lib/tuning/samplers/sobol';
import { parseSearchSpace } from '../../src/main/lib/tuning/space';
import { TpeSampler } from '../../src/main/lib/tuning/tpe/tpeSampler';
import { defaultWeights } from '../../src/main/lib/tuning/tpe/parzenEstimator';
import { defaultGamma } from '../../src/main/lib/tuning/tpe/split';
import type { StudyView, TrialRecord } from '../../src/main/lib/tuning/types';
import { CONTRACT_GRID_SPACE, CONTRACT_SPACE, describeSamplerContract, runStudy } from '../helpers/samplerContract';

describeSamplerContract('random', { make: (seed) => new RandomSampler({ seed }), space: CONTRACT_SPACE, seedChangesSequence: true, finite: false });
describeSamplerContract('tpe', { make: (seed) => new TpeSampler({ seed }), space: CONTRACT_SPACE, seedChangesSequence: true, finite: false, trials: 40 });
describeSamplerContract('tpe, independent, no constant liar', {
  make: (seed) => new TpeSampler({ seed, multivariate: false, constantLiar: false, nStartupTrials: 5 }),
  space: CONTRACT_SPACE,
  seedChangesSequence: true,
  finite: false,
});
describeSamplerContract('sobol', { make: (seed) => new SobolSampler({ seed }), space: CONTRACT_SPACE, seedChangesSequence: false, finite: false });
describeSamplerContract('sobol, scrambled', { make: (seed) => new SobolSampler({ seed, scramble: true }), space: CONTRACT_SPACE, seedChangesSequence: true, finite: false });
describeSamplerContract('grid', { make: (seed) => new GridSampler({ seed }), space: CONTRACT_GRID_SPACE, seedChangesSequence: true, finite: true, trials: 72 });

const space1d = parseSearchSpace({ x: { type: 'float', low: -10, high: 10 } });
const trial = (number: number, x: number, value: number, state: TrialRecord['state'] = 'complete'): TrialRecord => ({
  number,
  state,
  params: { x },
  ...(state === 'complete' ? { value } : {}),
  intermediate: new Map([[0, value]]),
});

describe('TPE', () => {
  it("has Optuna's defaults: gamma min(ceil(n/10), 25), flat weights for 25 trials then a ramp from 1/n", () => {
    expect([0, 1, 10, 11, 100, 249, 250, 1000].map(defaultGamma)).toEqual([0, 1, 1, 2, 10, 25, 25, 25]);
    expect(defaultWeights(3)).toEqual([1, 1, 1]);
    const w = defaultWeights(30);
    expect(w).toHaveLength(30);
    expect(w[0]).toBeCloseTo(1 / 30, 15);
    expect(w.slice(5)).toEqual(new Array(25).fill(1));
    expect(w[4]).toBe(1);
    expect(defaultWeights(26)).toEqual([1 / 26, ...new Array(25).fill(1)]);
  });

  it('suggests uniformly at random until 10 trials are complete or pruned', () => {
    const history: TrialRecord[] = Array.from({ length: 9 }, (_, i) => trial(i, 9, 0));
    const study: StudyView = { name: 's', direction: 'minimize', trials: history };
    // All nine trials sat at x = 9; a model would stay near it, random search does not.
    const xs = Array.from({ length: 40 }, (_, n) => new TpeSampler({ seed: n }).suggest({ study, space: space1d, trialNumber: 9 }).x as number);
    expect(xs.filter((x) => x < 0).length).toBeGreaterThan(10);
  });

  it('concentrates near the good region once it has a model', () => {
    // Good trials near x = 3, bad ones everywhere else.
    const history = Array.from({ length: 30 }, (_, i) => {
      const x = -10 + (20 * i) / 29;
      return trial(i, x, (x - 3) ** 2);
    });
    const study: StudyView = { name: 's', direction: 'minimize', trials: history };
    const xs = Array.from({ length: 20 }, (_, seed) => new TpeSampler({ seed }).suggest({ study, space: space1d, trialNumber: 30 }).x as number);
    const near = xs.filter((x) => Math.abs(x - 3) < 2).length;
    expect(near).toBeGreaterThanOrEqual(16);
    // Maximising the negated objective is the same problem.
    const flipped: StudyView = { ...study, direction: 'maximize', trials: history.map((t) => ({ ...t, value: -(t.value as number) })) };
    const flippedXs = Array.from({ length: 20 }, (_, seed) => new TpeSampler({ seed }).suggest({ study: flipped, space: space1d, trialNumber: 30 }).x as number);
    expect(flippedXs).toEqual(xs);
  });

  it('counts running trials as bad with the constant liar, so parallel suggestions spread out', () => {
    const history = Array.from({ length: 20 }, (_, i) => {
      const x = -10 + (20 * i) / 19;
      return trial(i, x, (x - 3) ** 2);
    });
    const base: StudyView = { name: 's', direction: 'minimize', trials: history };
    const first = new TpeSampler({ seed: 1 }).suggest({ study: base, space: space1d, trialNumber: 20 }).x as number;
    const withRunning: StudyView = { ...base, trials: [...history, { number: 20, state: 'running', params: { x: first }, intermediate: new Map() }] };
    const liar = new TpeSampler({ seed: 1 });
    const honest = new TpeSampler({ seed: 1, constantLiar: false });
    // Without the liar the running trial is invisible: the history is the one of the first suggestion.
    expect(honest.split(withRunning, 21).above.map((t) => t.number)).not.toContain(20);
    expect(liar.split(withRunning, 21).above.map((t) => t.number)).toContain(20);
    // With it, the density of "bad" rises at the running trial's point, so l/g falls there.
    const candidates = { x: [first] };
    const withLiar = liar.estimators(withRunning, space1d, 21);
    const without = honest.estimators(withRunning, space1d, 21);
    expect(TpeSampler.acquisition(withLiar.below, withLiar.above, candidates)[0]!).toBeLessThan(TpeSampler.acquisition(without.below, without.above, candidates)[0]!);
  });

  it('leaves pruned trials below only when complete ones are too few, deepest first', () => {
    const pruned = (number: number, steps: number[]): TrialRecord => ({ number, state: 'pruned', params: { x: number }, intermediate: new Map(steps.map((s) => [s, 10 - s])) });
    const study: StudyView = { name: 's', direction: 'minimize', trials: [trial(0, 0, 5), pruned(1, [0]), pruned(2, [0, 1, 2]), pruned(3, [0, 1]), ...Array.from({ length: 8 }, (_, i) => pruned(4 + i, [0]))] };
    // 12 finished trials: gamma = 2 good ones, the complete trial and the deepest pruned one.
    expect(new TpeSampler().split(study, 12).below.map((t) => t.number)).toEqual([0, 2]);
  });

  it('rejects bad options by name', () => {
    expect(() => new TpeSampler({ nEiCandidates: 0 })).toThrow(/nEiCandidates/);
    expect(() => createSampler({ name: 'tpe', options: { nStartupTrials: -1 } })).toThrow(/nStartupTrials/);
    expect(() => createSampler({ name: 'tpe', options: { sead: 1 } as never })).toThrow(/sead/);
    expect(() => createSampler('annealing' as never)).toThrow(/sampler/);
  });
});

describe('grid', () => {
  it('visits the full cartesian product of choices and stepped values once in its first N trials', () => {
    const space = parseSearchSpace({
      cell: { type: 'categorical', choices: ['lstm', 'gru'] },
      units: { type: 'int', low: 128, high: 256, step: 64 },
      dropout: { type: 'float', low: 0.1, high: 0.3, step: 0.1 },
    });
    const sampler = new GridSampler({ seed: 3 });
    const empty: StudyView = { name: 'g', direction: 'minimize', trials: [] };
    expect(sampler.remaining(empty, space)).toBe(18);
    const { study, suggestions } = runStudy(sampler, space, 18);
    const keys = new Set(suggestions.map((p) => JSON.stringify([p.cell, p.units, Math.round((p.dropout as number) * 10)])));
    expect(keys.size).toBe(18);
    expect(sampler.remaining(study, space)).toBe(0);
    expect(suggestions.map((p) => p.units)).toEqual(expect.arrayContaining([128, 192, 256]));
  });

  it('fills points left open by failed or foreign trials after N', () => {
    const space = parseSearchSpace({ cell: { type: 'categorical', choices: ['lstm', 'gru', 'rnn'] } });
    const sampler = new GridSampler();
    const study: StudyView = { name: 'g', direction: 'minimize', trials: [{ number: 0, state: 'complete', value: 1, params: { cell: 'gru' }, intermediate: new Map() }, { number: 1, state: 'running', params: { cell: 'lstm' }, intermediate: new Map() }] };
    expect(sampler.suggest({ study, space, trialNumber: 7 })).toEqual({ cell: 'rnn' });
  });

  it('refuses a continuous float without a step or grid, naming it', () => {
    const space = parseSearchSpace({ 'optimizer.learningRate': { type: 'float', low: 1e-4, high: 1e-2, log: true } });
    const empty: StudyView = { name: 'g', direction: 'minimize', trials: [] };
    expect(() => new GridSampler().suggest({ study: empty, space, trialNumber: 0 })).toThrow(/optimizer\.learningRate.*step.*grid/);
    expect(() => new GridSampler().remaining(empty, space)).toThrow(/optimizer\.learningRate/);
  });
});

describe('sobol', () => {
  it('starts at the origin and fills the unit cube evenly (every dyadic box of 16 points gets one)', () => {
    const sequence = new SobolSequence(2);
    expect(sequence.point(0)).toEqual([0, 0]);
    expect(sequence.point(1)).toEqual([0.5, 0.5]);
    const boxes = new Set(Array.from({ length: 16 }, (_, i) => sequence.point(i)).map(([x, y]) => `${Math.floor(x! * 4)},${Math.floor(y! * 4)}`));
    expect(boxes.size).toBe(16);
  });

  it('keeps the box property when scrambled, with a different point set per seed', () => {
    for (const seed of [1, 2]) {
      const sequence = new SobolSequence(3, { scramble: true, seed });
      const points = Array.from({ length: 8 }, (_, i) => sequence.point(i));
      expect(new Set(points.map((p) => p.map((x) => Math.floor(x * 2)).join(','))).size).toBe(8);
    }
    expect(new SobolSequence(3, { scramble: true, seed: 1 }).point(0)).not.toEqual(new SobolSequence(3, { scramble: true, seed: 2 }).point(0));
  });

  it('supports up to 256 parameters and says so beyond', () => {
    expect(new SobolSequence(256).point(5)).toHaveLength(256);
    expect(() => new SobolSequence(257)).toThrow(/256/);
  });
});
