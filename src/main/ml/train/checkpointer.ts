/**
 * The training loop's checkpoints: where and in which order they are
 * written, and the recovery a resume starts with.
 *
 * Order is what keeps files, store rows and training state consistent
 * after a kill at any instant (docs/reliability.md):
 *   1. an epoch's checkpoint `epoch-N/` is written (atomically), then its
 *      `checkpoint` event goes out (the main process records the row);
 *   2. only then, if the epoch is the new best, `epoch-N/` is copied to
 *      `best/` (atomically) and the best event goes out.
 * So the newest checkpoint's state always names a best epoch whose folder
 * exists, and `reconcileCheckpointFolder` (run by `recover` on resume, and
 * by the main process before it reads the store's rows) makes `best/` agree
 * with it. The store's rows are rebuilt from the files the same way.
 */
import { join } from 'node:path';
import type { TrainingCheckpoint } from '../../../shared/trainingTypes';
import {
  BEST_CHECKPOINT,
  copyCheckpointFolder,
  epochCheckpointName,
  reconcileCheckpointFolder,
  stepCheckpointName,
  type CheckpointIoHook,
} from '../../lib/checkpoints/folders';
import { folderSize, writeCheckpoint, type CheckpointContents, type TrainingState } from './checkpoint';

export interface CheckpointerOptions {
  /** `<runDir>/checkpoints`. */
  dir: string;
  /** Everything but the state and metrics: weights, optimizer, config, vocabulary (read at the moment of the write). */
  contents(state: TrainingState, metrics: Record<string, number>): Promise<CheckpointContents>;
  emit(event: TrainingCheckpoint): void;
  log(level: 'info' | 'warn', message: string): void;
  /** Tests: called before every file-system step (see CheckpointIoHook). */
  ioHook?: CheckpointIoHook;
}

/**
 * Before a resume: removes what a killed write left (`*.tmp-*`, `*.old-*`,
 * incomplete folders) and makes `best/` hold the best epoch that the newest
 * checkpoint's state names. Answers the path of `best/`, if there is one.
 */
export async function recoverCheckpoints(
  dir: string,
  log: CheckpointerOptions['log'],
  ioHook?: CheckpointIoHook,
): Promise<{ best: string | null }> {
  const folder = await reconcileCheckpointFolder(dir, ioHook);
  for (const action of folder.actions) log('warn', `Checkpoint recovery in ${dir}: ${action}.`);
  return { best: folder.best?.path ?? null };
}

export class Checkpointer {
  /** The newest checkpoint written or resumed from: where a resume continues. */
  last: string | null;
  best: string | null;

  constructor(
    private readonly options: CheckpointerOptions,
    start: { last: string | null; best: string | null },
  ) {
    this.last = start.last;
    this.best = start.best;
  }

  /** A mid-epoch (or mid-validation) stop: `step-N/`. */
  async saveStop(state: TrainingState): Promise<string> {
    this.last = await this.write(stepCheckpointName(state.globalStep), state, {}, 'stop');
    return this.last;
  }

  /** The end of an epoch: `epoch-N/`, then `best/` when the epoch improved. */
  async saveEpoch(state: TrainingState, metrics: Record<string, number>, improved: boolean): Promise<void> {
    this.last = await this.write(epochCheckpointName(state.epochsCompleted), state, metrics, 'epoch');
    if (!improved) return;
    const bestPath = join(this.options.dir, BEST_CHECKPOINT);
    await copyCheckpointFolder(this.last, bestPath, this.options.ioHook);
    this.best = bestPath;
    this.announce(bestPath, state, metrics, 'best', await folderSize(bestPath));
  }

  private async write(name: string, state: TrainingState, metrics: Record<string, number>, reason: TrainingCheckpoint['reason']): Promise<string> {
    const path = join(this.options.dir, name);
    const sizeBytes = await writeCheckpoint(path, await this.options.contents(state, metrics), this.options.ioHook);
    this.announce(path, state, metrics, reason, sizeBytes);
    return path;
  }

  private announce(path: string, state: TrainingState, metrics: Record<string, number>, reason: TrainingCheckpoint['reason'], sizeBytes: number): void {
    this.options.emit({
      kind: 'checkpoint',
      path,
      epoch: state.epochsCompleted,
      globalStep: state.globalStep,
      isBest: reason === 'best',
      reason,
      sizeBytes,
      metrics,
    });
  }
}
