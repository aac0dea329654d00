/** One name for a run's checkpoint on every page that lists models. */
import { describe, expect, it } from 'vitest';
import { checkpointEpochName, checkpointName } from '../../src/shared/checkpointName';

describe('checkpoint names', () => {
  it('names the run, the epoch and whether it is the best', () => {
    expect(checkpointName({ runName: 'run-1', epoch: 1, isBest: true })).toBe('run-1 · epoch 1 (best)');
    expect(checkpointName({ runName: 'small lstm', epoch: 12, isBest: false })).toBe('small lstm · epoch 12');
  });

  it('adds the run id where the name leaves the app, since run names need not be unique', () => {
    expect(checkpointName({ runName: 'tiny', runId: 7, epoch: 2, isBest: false })).toBe('tiny (run 7) · epoch 2');
  });

  it('names a checkpoint within its own run by epoch alone', () => {
    expect(checkpointEpochName({ epoch: 3, isBest: true })).toBe('epoch 3 (best)');
    expect(checkpointEpochName({ epoch: 4, isBest: false })).toBe('epoch 4');
  });
});
