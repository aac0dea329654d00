import { describe, expect, it } from 'vitest';
import { packageCheckpoint } from '../../src/renderer/src/lib/packageCheckpoint';

describe('the checkpoint the run page packages', () => {
  it('is the best one when an epoch has ended, and the last before that', () => {
    expect(packageCheckpoint([{ isBest: false }, { isBest: true }, { isBest: false }])).toBe('best');
    // Stopped in the first epoch: only the stop checkpoint, which is not a best; exporting "best" failed there.
    expect(packageCheckpoint([{ isBest: false }])).toBe('last');
  });
});
