/**
 * A run's checkpoint folder on disk, without TensorFlow: how folders are
 * named, how one is replaced atomically, and how the folder is brought back
 * to a consistent state after a kill at any instant.
 *
 * The files are the source of truth. Every checkpoint's `checkpoint.json`
 * carries the training state it was written at, including the best epoch so
 * far. A run writes an epoch's checkpoint before copying it to `best/`, so
 * after a kill the newest checkpoint's state always names a best epoch whose
 * own folder still exists; `reconcileCheckpointFolder` makes `best/` hold it
 * and removes what an interrupted write left behind. The store's rows are
 * then rebuilt from these files (src/main/training/checkpointRecords.ts).
 *
 * Plain Node: the main process (store recovery) and the engine (resume) both
 * use it.
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, open, readdir, readFile, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

export const CHECKPOINT_JSON = 'checkpoint.json';
export const BEST_CHECKPOINT = 'best';

/** Folder names: `epoch-0003` after epoch 3, `step-000120` for a mid-epoch stop, `best`. */
export const epochCheckpointName = (epochsCompleted: number): string => `epoch-${String(epochsCompleted).padStart(4, '0')}`;
export const stepCheckpointName = (globalStep: number): string => `step-${String(globalStep).padStart(7, '0')}`;

const TEMP_MARK = '.tmp-';
const ASIDE_MARK = '.old-';
const CHECKPOINT_NAME = /^(epoch-\d+|step-\d+|best)$/;

/**
 * Called before every file-system step of a checkpoint write, with a label.
 * Tests use it to stop a write at any instant (a promise that never settles
 * is a kill: nothing after it runs, not even cleanup).
 */
export type CheckpointIoHook = (label: string) => Promise<void> | void;

const noHook: CheckpointIoHook = () => undefined;

/** Writes a file and flushes it to disk before the folder holding it is renamed into place. */
export async function writeDurably(file: string, data: string | Buffer, hook: CheckpointIoHook = noHook): Promise<void> {
  await hook(`write ${basename(file)}`);
  const handle = await open(file, 'w');
  try {
    await handle.writeFile(data);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await hook(`wrote ${basename(file)}`);
}

/**
 * Builds a folder at `path` atomically: `fill` writes into `<path>.tmp-…`,
 * an existing folder is moved aside to `<path>.old-…`, the new one renamed
 * in, the old one removed. A kill at any step leaves either the old or the
 * new folder complete (or the old one aside, which recovery renames back).
 */
export async function replaceFolder(path: string, fill: (temp: string) => Promise<void>, hook: CheckpointIoHook = noHook): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const suffix = `${process.pid}-${randomBytes(4).toString('hex')}`;
  const temp = `${path}${TEMP_MARK}${suffix}`;
  await hook('create temporary folder');
  await mkdir(temp);
  try {
    await fill(temp);
    let aside: string | null = null;
    if (existsSync(path)) {
      aside = `${path}${ASIDE_MARK}${suffix}`;
      await hook('move old folder aside');
      await rename(path, aside);
    }
    await hook('rename into place');
    await rename(temp, path);
    if (aside) {
      await hook('remove old folder');
      await rm(aside, { recursive: true, force: true });
    }
  } catch (error) {
    await rm(temp, { recursive: true, force: true });
    throw error;
  }
}

/** Copies a checkpoint folder to `to` atomically (how `best/` is made from an epoch's checkpoint). */
export async function copyCheckpointFolder(from: string, to: string, hook: CheckpointIoHook = noHook): Promise<void> {
  await replaceFolder(
    to,
    async (temp) => {
      const names = (await readdir(from)).sort((a, b) => Number(a === CHECKPOINT_JSON) - Number(b === CHECKPOINT_JSON));
      // checkpoint.json last: a folder holding it is complete.
      for (const name of names) {
        await hook(`copy ${name}`);
        await copyFile(join(from, name), join(temp, name));
      }
    },
    hook,
  );
}

/** What recovery needs from a checkpoint: its place in training and its metrics. */
export interface CheckpointHeader {
  /** Folder name: `epoch-0003`, `step-0000120` or `best`. */
  name: string;
  path: string;
  epochsCompleted: number;
  stepInEpoch: number;
  globalStep: number;
  /** The best epoch so far by the run's early-stopping metric, as the state says. */
  bestEpoch: number | null;
  finished: boolean;
  metrics: Record<string, number>;
}

const isCount = (value: unknown): value is number => typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;

/** Reads a checkpoint folder's header; null when the folder is incomplete or not a checkpoint. */
export async function readCheckpointHeader(path: string): Promise<CheckpointHeader | null> {
  let json: unknown;
  try {
    json = JSON.parse(await readFile(join(path, CHECKPOINT_JSON), 'utf8'));
  } catch {
    return null;
  }
  const state = (json as { state?: Record<string, unknown> } | null)?.state;
  if (!state || typeof state !== 'object') return null;
  const early = state.earlyStopping as { bestEpoch?: unknown } | undefined;
  if (!isCount(state.epochsCompleted) || !isCount(state.stepInEpoch) || !isCount(state.globalStep)) return null;
  const bestEpoch = early && isCount(early.bestEpoch) ? early.bestEpoch : null;
  const rawMetrics = (json as { metrics?: unknown }).metrics;
  const metrics: Record<string, number> = {};
  if (rawMetrics && typeof rawMetrics === 'object') {
    for (const [key, value] of Object.entries(rawMetrics)) if (typeof value === 'number' && Number.isFinite(value)) metrics[key] = value;
  }
  return {
    name: basename(path),
    path,
    epochsCompleted: state.epochsCompleted,
    stepInEpoch: state.stepInEpoch,
    globalStep: state.globalStep,
    bestEpoch,
    finished: state.finished === true,
    metrics,
  };
}

/** Orders resume candidates: more steps first; at equal steps an epoch checkpoint (validated) before a step checkpoint. */
function newerFirst(a: CheckpointHeader, b: CheckpointHeader): number {
  return b.globalStep - a.globalStep || b.epochsCompleted - a.epochsCompleted || Number(b.name.startsWith('epoch-')) - Number(a.name.startsWith('epoch-'));
}

export interface ReconciledFolder {
  /** Complete checkpoints after recovery (best included), newest first. */
  checkpoints: CheckpointHeader[];
  /** Where training continues: the newest epoch or step checkpoint. */
  newest: CheckpointHeader | null;
  best: CheckpointHeader | null;
  /** What recovery changed, in words (for the log). */
  actions: string[];
}

/** Removes what a killed write left: temporary folders, and old copies moved aside (or puts them back when the new one never arrived). */
export async function removeInterruptedWrites(dir: string): Promise<string[]> {
  if (!existsSync(dir)) return [];
  const actions: string[] = [];
  const names = await readdir(dir);
  for (const name of names.filter((n) => n.includes(TEMP_MARK))) {
    await rm(join(dir, name), { recursive: true, force: true });
    actions.push(`removed the unfinished ${name}`);
  }
  // At most one aside is put back; any other is an older copy and goes.
  for (const name of names.filter((n) => n.includes(ASIDE_MARK)).sort()) {
    const target = join(dir, name.slice(0, name.indexOf(ASIDE_MARK)));
    const aside = join(dir, name);
    if (!existsSync(join(target, CHECKPOINT_JSON)) && existsSync(join(aside, CHECKPOINT_JSON))) {
      await rm(target, { recursive: true, force: true });
      await rename(aside, target);
      actions.push(`restored ${basename(target)} from ${name}`);
    } else {
      await rm(aside, { recursive: true, force: true });
      actions.push(`removed the replaced ${name}`);
    }
  }
  return actions;
}

/**
 * Brings a run's checkpoint folder to a consistent state after a kill:
 * no temporary or moved-aside folders, no incomplete checkpoints, and
 * `best/` holding the epoch the newest checkpoint's state calls best.
 */
export async function reconcileCheckpointFolder(dir: string, hook: CheckpointIoHook = noHook): Promise<ReconciledFolder> {
  const actions = await removeInterruptedWrites(dir);
  const checkpoints: CheckpointHeader[] = [];
  if (existsSync(dir)) {
    for (const name of (await readdir(dir)).filter((n) => CHECKPOINT_NAME.test(n)).sort()) {
      const header = await readCheckpointHeader(join(dir, name));
      if (header) checkpoints.push(header);
      else {
        await rm(join(dir, name), { recursive: true, force: true });
        actions.push(`removed ${name}, which has no readable ${CHECKPOINT_JSON}`);
      }
    }
  }
  const candidates = checkpoints.filter((c) => c.name !== BEST_CHECKPOINT).sort(newerFirst);
  const newest = candidates[0] ?? null;
  let best = checkpoints.find((c) => c.name === BEST_CHECKPOINT) ?? null;
  const bestPath = join(dir, BEST_CHECKPOINT);
  if (newest && newest.bestEpoch === null && best) {
    await rm(bestPath, { recursive: true, force: true });
    actions.push(`removed ${BEST_CHECKPOINT}/ (epoch ${best.epochsCompleted}): the newest checkpoint has no best epoch`);
    best = null;
  } else if (newest && newest.bestEpoch !== null && !(best && best.epochsCompleted === newest.bestEpoch && best.stepInEpoch === 0)) {
    const source = candidates.find((c) => c.name.startsWith('epoch-') && c.epochsCompleted === newest.bestEpoch && c.stepInEpoch === 0);
    if (source) {
      await copyCheckpointFolder(source.path, bestPath, hook);
      actions.push(`${BEST_CHECKPOINT}/ held ${best ? `epoch ${best.epochsCompleted}` : 'nothing'}; copied ${source.name} (the best epoch, ${newest.bestEpoch}) into it`);
      best = { ...source, name: BEST_CHECKPOINT, path: bestPath };
    } else if (best && best.epochsCompleted > newest.epochsCompleted) {
      // From an epoch the run will train again: it belongs to no checkpoint the run continues from.
      await rm(bestPath, { recursive: true, force: true });
      actions.push(`removed ${BEST_CHECKPOINT}/ (epoch ${best.epochsCompleted}, newer than the newest checkpoint ${newest.name})`);
      best = null;
    } else {
      actions.push(`${BEST_CHECKPOINT}/ holds epoch ${best?.epochsCompleted ?? 'none'} but the state names epoch ${newest.bestEpoch}, whose checkpoint is gone`);
    }
  }
  const all = [...candidates, ...(best ? [best] : [])];
  return { checkpoints: all, newest, best, actions };
}
