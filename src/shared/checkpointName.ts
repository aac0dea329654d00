/**
 * How every page names a run's checkpoint (Batch's jobs, the Playground's
 * model list, a run's evaluate form): the run's name, the epoch it was saved
 * after, and whether it is the run's best, always in the same words.
 */
export interface CheckpointNaming {
  runName: string;
  /** Given where the name leaves the app (batch outputs): run names need not be unique, ids are. */
  runId?: number;
  epoch: number;
  isBest: boolean;
}

/** "epoch 3 (best)": the checkpoint within its run. */
export function checkpointEpochName(checkpoint: Pick<CheckpointNaming, 'epoch' | 'isBest'>): string {
  return `epoch ${checkpoint.epoch}${checkpoint.isBest ? ' (best)' : ''}`;
}

/** "run-1 · epoch 3 (best)" (with the id: "run-1 (run 7) · epoch 3 (best)"): the checkpoint among every run's. */
export function checkpointName(checkpoint: CheckpointNaming): string {
  const run = checkpoint.runId === undefined ? checkpoint.runName : `${checkpoint.runName} (run ${checkpoint.runId})`;
  return `${run} · ${checkpointEpochName(checkpoint)}`;
}
