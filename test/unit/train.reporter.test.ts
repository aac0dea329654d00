import { describe, expect, it } from 'vitest';
import { TrainingReporter, type StepReport } from '../../src/main/ml/train/reporter';

const report = (step: number, budgetLeftSeconds: number | null): StepReport => ({
  epoch: 0,
  step,
  globalStep: step + 1,
  loss: 1,
  gradNorm: 1,
  learningRate: 1e-3,
  samplingProbability: 0,
  seconds: 2,
  tokens: 100,
  budgetLeftSeconds,
});

describe('training progress', () => {
  const etas = (budgetLeftSeconds: number | null) => {
    const seen: Array<number | null | undefined> = [];
    const reporter = new TrainingReporter({
      emit: () => undefined,
      progress: (progress) => seen.push(progress.etaSeconds),
      epochs: 10,
      stepsPerEpoch: 100,
      stepEventIntervalMs: 0,
      stepsOnly: true,
    });
    reporter.step(report(0, budgetLeftSeconds));
    return seen;
  };

  it('estimates the time left from the steps left', () => {
    // 999 steps of 2 s are left.
    expect(etas(null)).toEqual([1998]);
  });

  it('never promises more than the time budget has left', () => {
    expect(etas(300)).toEqual([300]);
    expect(etas(5000)).toEqual([1998]);
  });

  it('gives the step event the same ETA as the progress, so the run page and the task agree', () => {
    const events: unknown[] = [];
    const seen: Array<number | null | undefined> = [];
    const reporter = new TrainingReporter({ emit: (event) => events.push(event), progress: (progress) => seen.push(progress.etaSeconds), epochs: 10, stepsPerEpoch: 100, stepEventIntervalMs: 0, stepsOnly: true });
    reporter.step(report(0, 300));
    reporter.step(report(1, null));
    // 998 steps of 2 s are left after the second.
    expect(events).toMatchObject([
      { kind: 'step', globalStep: 1, etaSeconds: 300 },
      { kind: 'step', globalStep: 2, etaSeconds: 1996 },
    ]);
    expect(seen).toEqual([300, 1996]);
  });
});
