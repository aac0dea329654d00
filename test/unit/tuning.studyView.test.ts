/**
 * What the study view derives from trials (best-so-far, pruning savings,
 * parameter axes) and which crashed trials a study retries.
 */
import { describe, expect, it } from 'vitest';
import type { StudyDetails, StudyTrial } from '../../src/shared/contract/tuning';
import type { StudyRecord } from '../../src/shared/storeTypes';
import { retryPlan } from '../../src/main/tuning/tuningService';
import { algorithmDescription, algorithmName, axisValue, enqueueFields, enqueueParams, history, paramAxes, pruningSavings } from '../../src/renderer/src/pages/tuning/studyMath';

const study = { id: 1, name: 's', direction: 'minimize', baseConfig: { training: { epochs: 5 } }, searchSpace: {} } as unknown as StudyRecord;

function trial(number: number, state: StudyTrial['state'], steps: number, value: number | null = null, extra: Partial<StudyTrial> = {}): StudyTrial {
  return {
    id: number + 1, studyId: 1, number, state, params: {}, value, runId: null, taskId: null, error: null,
    createdAt: '2026-01-01T00:00:00.000Z', startedAt: '2026-01-01T00:00:00.000Z',
    finishedAt: state === 'running' ? null : new Date(Date.parse('2026-01-01T00:00:00.000Z') + steps * 2000).toISOString(),
    heartbeatAt: null,
    intermediates: Array.from({ length: steps }, (_, i) => ({ step: i + 1, value: 10 - i })),
    ...extra,
  };
}

describe('study view arithmetic', () => {
  it('tracks the best value so far over completed trials in number order', () => {
    const trials = [trial(2, 'completed', 5, 3), trial(0, 'completed', 5, 4), trial(1, 'pruned', 2), trial(3, 'completed', 5, 5)];
    expect(history(trials, 'minimize')).toEqual([
      { number: 0, value: 4, best: 4 },
      { number: 2, value: 3, best: 3 },
      { number: 3, value: 5, best: 3 },
    ]);
    expect(history(trials, 'maximize').map((h) => h.best)).toEqual([4, 4, 5]);
  });

  it('counts the epochs pruned trials did not train and prices them at the measured seconds per epoch', () => {
    const details: StudyDetails = { study, best: null, trials: [trial(0, 'completed', 5, 1), trial(1, 'pruned', 1), trial(2, 'pruned', 2, null, { params: { 'training.epochs': 8 } }), trial(3, 'running', 1)] };
    const savings = pruningSavings(details);
    // 5 - 1 for trial 1, 8 - 2 for trial 2 (its own epochs); the running trial is not counted.
    expect(savings).toMatchObject({ prunedTrials: 2, epochsSaved: 10, epochsTrained: 8, secondsPerEpoch: 2 });
    expect(savings.secondsSaved).toBe(20);
    expect(savings.secondsWithoutPruning).toBe(36);
  });

  it('gives log, linear and categorical axes in name order', () => {
    const axes = paramAxes({ b: { type: 'float', low: 1e-4, high: 1, log: true }, a: { type: 'categorical', choices: ['lstm', 'gru'] }, c: { type: 'int', low: 1, high: 3 } });
    expect(axes).toEqual([{ name: 'a', log: false, categories: ['lstm', 'gru'] }, { name: 'b', log: true }, { name: 'c', log: false }]);
    expect(axisValue(axes[0]!, { a: 'gru' })).toBe(1);
    expect(axisValue(axes[1]!, { b: 0.01 })).toBe(0.01);
    expect(axisValue(axes[2]!, {})).toBeNull();
  });
});

describe("a study's sampler and pruner in words", () => {
  it('names the algorithm and lists its options; older studies stored a bare name, which stays as it is', () => {
    const pruner = JSON.stringify({ name: 'median', options: { nStartupTrials: 2, nWarmupSteps: 0 } });
    expect(algorithmName(pruner)).toBe('median');
    expect(algorithmDescription(pruner)).toBe('median (nStartupTrials 2, nWarmupSteps 0)');
    expect(algorithmDescription(JSON.stringify({ name: 'tpe', options: { seed: 3, gamma: 0.25 } }))).toBe('tpe (seed 3, gamma 0.250)');
    expect(algorithmDescription(JSON.stringify({ name: 'nop' }))).toBe('nop');
    expect(algorithmDescription('random')).toBe('random');
    expect(algorithmDescription('{not json')).toBe('{not json');
  });
});

describe('retrying crashed trials', () => {
  it('retries a crashed trial once; a retried one stands aside; a crashed retry counts as finished', () => {
    const fresh = [trial(0, 'completed', 5, 1), trial(1, 'crashed', 2)];
    expect(retryPlan(fresh)).toMatchObject({ finished: 1, toRetry: [expect.objectContaining({ number: 1 })] });

    const retried = [trial(0, 'completed', 5, 1), trial(1, 'crashed', 2, null, { error: 'The process died. Retried as trial 2.' }), trial(2, 'running', 1)];
    expect(retryPlan(retried)).toEqual({ finished: 1, toRetry: [] });

    const retryCrashed = [trial(0, 'completed', 5, 1), trial(1, 'crashed', 2, null, { error: 'x. Retried as trial 2.' }), trial(2, 'crashed', 1)];
    expect(retryPlan(retryCrashed)).toEqual({ finished: 2, toRetry: [] });
  });
});

describe('the enqueue-trial form', () => {
  const space = {
    'optimizer.learningRate': { type: 'float', low: 1e-5, high: 1e-2, log: true },
    'decoder.units': { type: 'int', low: 128, high: 512, step: 64 },
    'training.batchSize': { type: 'int', low: 16, high: 64 },
    'decoder.cell': { type: 'categorical', choices: ['lstm', 'gru'] },
  };

  it('has a field per parameter, in name order, with ranges, steps and choices', () => {
    expect(enqueueFields(space)).toEqual([
      { name: 'decoder.cell', choices: ['lstm', 'gru'] },
      { name: 'decoder.units', low: 128, high: 512, log: false, integer: true, step: 64 },
      { name: 'optimizer.learningRate', low: 1e-5, high: 1e-2, log: true, integer: false },
      { name: 'training.batchSize', low: 16, high: 64, log: false, integer: true, step: 1 },
    ]);
  });

  it('fixes the filled fields and leaves the empty ones to the sampler, naming a bad entry', () => {
    const fields = enqueueFields(space);
    expect(enqueueParams(fields, { 'decoder.cell': '1', 'optimizer.learningRate': '0.001', 'decoder.units': ' ' })).toEqual({ 'decoder.cell': 'gru', 'optimizer.learningRate': 0.001 });
    expect(enqueueParams(fields, {})).toEqual({});
    expect(() => enqueueParams(fields, { 'decoder.units': 'wide' })).toThrow(/decoder\.units: "wide" is not a number/);
    expect(() => enqueueParams(fields, { 'decoder.units': '1024' })).toThrow(/decoder\.units: 1024 is outside 128 to 512/);
    expect(() => enqueueParams(fields, { 'training.batchSize': '20.5' })).toThrow(/training\.batchSize: must be a whole number/);
    expect(() => enqueueParams(fields, { 'decoder.cell': '2' })).toThrow(/decoder\.cell: pick one of its choices/);
  });
});
