/**
 * Which checkpoint the run page exports as a model package: the best one,
 * or the last when there is no best yet. The best is chosen at the end of
 * an epoch, so a run stopped in its first epoch has only its stop
 * checkpoint, and the Export button shows whenever a run has any.
 */
import type { CheckpointRecord } from '../../../shared/storeTypes';

export function packageCheckpoint(checkpoints: readonly Pick<CheckpointRecord, 'isBest'>[]): 'best' | 'last' {
  return checkpoints.some((checkpoint) => checkpoint.isBest) ? 'best' : 'last';
}
