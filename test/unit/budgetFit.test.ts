import { describe, expect, it } from 'vitest';
import { budgetFit, describeBudgetFit } from '../../src/shared/budgetFit';
import { configFromPreset } from '../../src/shared/runConfig';

// The preset's 10-minute budget, with the epochs named here so the arithmetic does not follow the preset's count.
const grounded = configFromPreset('shapes-grounded', { dataset: { path: '/data/shapes' }, training: { epochs: 12 } });

describe('what a time budget holds of the epochs', () => {
  it('counts the whole epochs that end inside the budget', () => {
    // 12 epochs of 100 s in a 10-minute budget: 6 fit.
    const fit = budgetFit(grounded, 100);
    expect(fit).toEqual({ epochs: 6, configured: 12, minutes: 10 });
    expect(describeBudgetFit(fit!)).toBe(
      'The 10-minute budget holds about 6 of the 12 epochs on this machine (validation takes some of it); the schedule is cut where it ends.',
    );
  });

  it('says nothing when every epoch fits or there is no budget', () => {
    expect(budgetFit(grounded, 50)).toBeNull();
    expect(budgetFit({ ...grounded, training: { ...grounded.training, maxMinutes: 0 } }, 1000)).toBeNull();
  });

  it('always counts the first epoch, which runs whatever its length', () => {
    expect(budgetFit(grounded, 5000)?.epochs).toBe(1);
  });
});
