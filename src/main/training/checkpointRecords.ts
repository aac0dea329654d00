/**
 * Makes a run's checkpoint rows in the store agree with its checkpoint
 * files after a kill. The files are the source of truth: the folder is
 * reconciled first (lib/checkpoints/folders.ts: unfinished writes removed,
 * `best/` made to hold the best epoch the newest state names), then every
 * complete folder gets a row with the epoch, step and metrics its own
 * `checkpoint.json` states, and rows whose folder is gone are dropped.
 *
 * Runs before a resume, when a run ends failed or crashed, and at open for
 * the runs that recovery found interrupted.
 */
import { join, resolve } from 'node:path';
import type { CheckpointRecord } from '../../shared/storeTypes';
import { BEST_CHECKPOINT, reconcileCheckpointFolder, type CheckpointHeader } from '../lib/checkpoints/folders';
import type { ExperimentStore } from '../store/storage';

type Store = Pick<ExperimentStore, 'checkpoints' | 'runs'>;

export interface ReconciledRun {
  /** What changed on disk or in the store, in words. */
  actions: string[];
  /** `best/` after recovery, if the run has one. */
  best: string | null;
}

const sameMetrics = (a: Record<string, number>, b: Record<string, number>): boolean =>
  Object.keys(a).length === Object.keys(b).length && Object.entries(a).every(([key, value]) => b[key] === value);

function agrees(row: CheckpointRecord | undefined, header: CheckpointHeader): boolean {
  return (
    row !== undefined &&
    row.epoch === header.epochsCompleted &&
    row.step === header.globalStep &&
    row.isBest === (header.name === BEST_CHECKPOINT) &&
    sameMetrics(row.metrics, header.metrics)
  );
}

export async function reconcileRunCheckpoints(store: Store, runId: number): Promise<ReconciledRun> {
  const dir = join(await store.runs.directory(runId), 'checkpoints');
  const folder = await reconcileCheckpointFolder(dir);
  const actions = [...folder.actions];
  const rows = await store.checkpoints.list(runId);
  const byPath = new Map(rows.map((row) => [resolve(row.path), row]));
  const onDisk = new Set(folder.checkpoints.map((header) => resolve(header.path)));
  for (const row of rows) {
    const path = resolve(row.path);
    if (path.startsWith(`${resolve(dir)}/`) && !onDisk.has(path)) {
      await store.checkpoints.remove(row.id, { keepFiles: true });
      actions.push(`forgot checkpoint ${row.id} (${path}): its folder is gone`);
    }
  }
  // The best row last: recording it clears the mark on every other row.
  const ordered = [...folder.checkpoints].sort((a, b) => Number(a.name === BEST_CHECKPOINT) - Number(b.name === BEST_CHECKPOINT));
  for (const header of ordered) {
    const row = byPath.get(resolve(header.path));
    if (agrees(row, header)) continue;
    // A row still marked best for an older copy would keep its mark: drop it so the new row is exact.
    if (row && row.isBest && header.name !== BEST_CHECKPOINT) await store.checkpoints.remove(row.id, { keepFiles: true });
    await store.checkpoints.add({
      runId,
      epoch: header.epochsCompleted,
      step: header.globalStep,
      path: header.path,
      metrics: header.metrics,
      isBest: header.name === BEST_CHECKPOINT,
    });
    actions.push(
      row
        ? `checkpoint ${header.name}: the store said epoch ${row.epoch}, step ${row.step}; the files say epoch ${header.epochsCompleted}, step ${header.globalStep}`
        : `recorded ${header.name} (epoch ${header.epochsCompleted}, step ${header.globalStep}), which the store did not know`,
    );
  }
  return { actions, best: folder.best?.path ?? null };
}
