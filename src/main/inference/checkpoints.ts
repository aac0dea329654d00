/** Picking a run's checkpoint by what a user means: its best, its latest, or the one after epoch N. */
import { ApiError } from '../../shared/errors';
import type { CheckpointChoice } from '../../shared/inferenceTypes';
import type { CheckpointRecord } from '../../shared/storeTypes';
import type { ExperimentStore } from '../store';

export async function resolveCheckpoint(store: ExperimentStore, runId: number, choice: CheckpointChoice): Promise<CheckpointRecord> {
  const run = await store.runs.get(runId);
  if (!run) throw new ApiError('not_found', `No run with id ${runId}.`);
  const checkpoints = await store.checkpoints.list(runId);
  if (checkpoints.length === 0) throw new ApiError('not_found', `Run ${runId} (${run.name}) has no checkpoints yet.`);
  if (choice === 'best') {
    const best = checkpoints.filter((checkpoint) => checkpoint.isBest).at(-1);
    if (!best) throw new ApiError('not_found', `Run ${runId} (${run.name}) has no best checkpoint; choose "last" or an epoch.`);
    return best;
  }
  if (choice === 'last') return (await store.checkpoints.latest(runId))!;
  const atEpoch = checkpoints.filter((checkpoint) => checkpoint.epoch === choice).at(-1);
  if (!atEpoch) {
    const epochs = [...new Set(checkpoints.map((checkpoint) => checkpoint.epoch))].join(', ');
    throw new ApiError('not_found', `Run ${runId} (${run.name}) has no checkpoint after epoch ${choice} (epochs with one: ${epochs}).`);
  }
  return atEpoch;
}
