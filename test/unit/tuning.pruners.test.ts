import { describe, expect, it } from 'vitest';
import { createPruner } from '../../src/main/lib/tuning/factory';
import { crc32 } from '../../src/main/lib/tuning/crc32';
import { NopPruner } from '../../src/main/lib/tuning/pruner';
import { HyperbandPruner } from '../../src/main/lib/tuning/pruners/hyperband';
import { isFirstInIntervalStep, MedianPruner, nanPercentile, PercentilePruner } from '../../src/main/lib/tuning/pruners/percentile';
import { SuccessiveHalvingPruner } from '../../src/main/lib/tuning/pruners/successiveHalving';
import type { StudyView, TrialRecord } from '../../src/main/lib/tuning/types';
import { contractCurves, describePrunerContract } from '../helpers/prunerContract';
import { simulateStudy } from '../helpers/prunerSimulation';

describePrunerContract('none', { make: () => new NopPruner(), prunes: false });
describePrunerContract('median', { make: () => new MedianPruner(), prunes: true });
describePrunerContract('percentile 25', { make: () => new PercentilePruner({ percentile: 25 }), prunes: true });
describePrunerContract('successive halving', { make: () => new SuccessiveHalvingPruner(), prunes: true });
describePrunerContract('successive halving, factor 2, min resource 2', { make: () => new SuccessiveHalvingPruner({ minResource: 2, reductionFactor: 2 }), prunes: true });
describePrunerContract('hyperband', { make: () => new HyperbandPruner(), prunes: true, steps: 27 });

const complete = (number: number, values: number[]): TrialRecord => ({ number, state: 'complete', params: {}, value: values[values.length - 1]!, intermediate: new Map(values.map((v, s) => [s, v])) });
const running = (number: number, values: number[]): TrialRecord => ({ number, state: 'running', params: {}, intermediate: new Map(values.map((v, s) => [s, v])) });

describe('median and percentile', () => {
  it('interpolate percentiles linearly as numpy.nanpercentile, skipping NaN', () => {
    expect(nanPercentile([1, 2, 3, 4], 50)).toBe(2.5);
    expect(nanPercentile([4, NaN, 1, 3, 2], 25)).toBe(1.75);
    expect(nanPercentile([NaN], 50)).toBeNaN();
  });

  it('wait for 5 complete trials by default, then prune what is worse than the median at the step', () => {
    const history = [1, 2, 3, 4].map((v, i) => complete(i, [v, v]));
    const trial = running(4, [3.5]);
    expect(new MedianPruner().shouldPrune({ study: { name: 's', direction: 'minimize', trials: [...history, trial] }, trial }).prune).toBe(false);
    const five = [...history, complete(4, [5, 5])];
    const late = running(5, [3.5]);
    expect(new MedianPruner().shouldPrune({ study: { name: 's', direction: 'minimize', trials: [...five, late] }, trial: late }).prune).toBe(true);
    const good = running(5, [2.5]);
    expect(new MedianPruner().shouldPrune({ study: { name: 's', direction: 'minimize', trials: [...five, good] }, trial: good }).prune).toBe(false);
  });

  it('skip warm-up steps and only decide once per interval', () => {
    expect(isFirstInIntervalStep(5, [0, 1, 2, 3, 4, 5], 0, 1)).toBe(true);
    expect(isFirstInIntervalStep(5, [0, 1, 2, 3, 4, 5], 2, 2)).toBe(false);
    expect(isFirstInIntervalStep(4, [0, 1, 2, 3, 4], 2, 2)).toBe(true);
    const history = [1, 2, 3, 4, 5].map((v, i) => complete(i, [v, v, v, v]));
    const bad = running(5, [9, 9]);
    const study: StudyView = { name: 's', direction: 'minimize', trials: [...history, bad] };
    expect(new MedianPruner({ nWarmupSteps: 2 }).shouldPrune({ study, trial: bad }).prune).toBe(false);
    expect(new MedianPruner({ nWarmupSteps: 1 }).shouldPrune({ study, trial: bad }).prune).toBe(true);
  });

  it('reject bad options, naming them', () => {
    expect(() => new PercentilePruner({ percentile: 120 })).toThrow(/percentile/);
    expect(() => new MedianPruner({ intervalSteps: 0 })).toThrow(/intervalSteps/);
    expect(() => createPruner({ name: 'median', options: { nWarmup: 1 } as never })).toThrow(/nWarmup/);
    expect(() => createPruner({ name: 'percentile', options: {} as never })).toThrow(/percentile/);
  });
});

describe('successive halving', () => {
  it('waits for a complete trial to set min_resource, then promotes only the top quarter of each rung', () => {
    const pruner = new SuccessiveHalvingPruner();
    const first = running(0, [1, 1]);
    expect(pruner.shouldPrune({ study: { name: 's', direction: 'minimize', trials: [first] }, trial: first })).toEqual({ prune: false });
    const curves = contractCurves(30, 12, 9);
    const { study } = simulateStudy(new SuccessiveHalvingPruner(), 'minimize', curves, 1);
    // Rung 0 is step 1 (min_resource 1), rung 1 step 4: pruned trials stop there.
    const prunedAt = study.trials.filter((t) => t.state === 'pruned').map((t) => Math.max(...t.intermediate.keys()));
    expect(prunedAt.length).toBeGreaterThan(10);
    expect(new Set(prunedAt)).toEqual(new Set(prunedAt.filter((s) => s === 1 || s === 4)));
    // Every trial past a rung recorded its value there.
    // Every trial past a rung recorded its value there (trial 0 ran before any trial was complete: no rungs yet).
    for (const t of study.trials.slice(1)) if (t.intermediate.size > 1) expect(t.attrs).toHaveProperty('completed_rung_0');
  });

  it('rejects bad options', () => {
    expect(() => new SuccessiveHalvingPruner({ reductionFactor: 1 })).toThrow(/reductionFactor/);
    expect(() => new SuccessiveHalvingPruner({ bootstrapCount: 1 })).toThrow(/bootstrapCount/);
    expect(() => new SuccessiveHalvingPruner({ minResource: 0 })).toThrow(/minResource/);
  });
});

describe('hyperband', () => {
  it("assigns brackets by crc32 of '<study>_<trial>' as Optuna does", () => {
    expect(crc32('hello')).toBe(0x3610a686);
    expect(crc32('')).toBe(0);
    const pruner = new HyperbandPruner({ maxResource: 27 });
    const trial = running(0, [1]);
    pruner.shouldPrune({ study: { name: 'study', direction: 'minimize', trials: [trial] }, trial });
    // floor(log3(27)) + 1 = 4 brackets with budgets ceil(4·3^s/(s+1)) = 27, 12, 6, 4.
    expect(pruner.bracketCount).toBe(4);
    expect([0, 1, 2].map((n) => crc32(`study_${n}`))).toEqual([368277276, 1660176266, 4227667504]);
    const counts = [0, 0, 0, 0];
    for (let n = 0; n < 6100; n++) counts[pruner.bracketOf('study', n)]! += 1;
    // Counted with Python's binascii.crc32 and Optuna's walk through the budgets.
    expect(counts).toEqual([3317, 1514, 759, 510]);
  });

  it('shows the sampler only the trials of the same bracket', () => {
    const pruner = new HyperbandPruner({ maxResource: 9 });
    const trials = Array.from({ length: 20 }, (_, i) => complete(i, [1, 2]));
    const study: StudyView = { name: 'hb', direction: 'minimize', trials };
    pruner.shouldPrune({ study, trial: trials[0]! });
    const view = pruner.samplingView(study, 20);
    const bracket = pruner.bracketOf('hb', 20);
    expect(view.trials.length).toBeGreaterThan(0);
    expect(view.trials.length).toBeLessThan(20);
    for (const t of view.trials) expect(pruner.bracketOf('hb', t.number)).toBe(bracket);
  });

  it('rejects bad options', () => {
    expect(() => new HyperbandPruner({ reductionFactor: 1 })).toThrow(/reductionFactor/);
    expect(() => new HyperbandPruner({ bootstrapCount: 2 })).toThrow(/bootstrapCount/);
    expect(() => createPruner({ name: 'hyperband', options: { maxResource: 'soon' } as never })).toThrow(/maxResource/);
  });
});
