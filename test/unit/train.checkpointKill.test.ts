/**
 * Checkpoint files, store rows and training state agree after a kill at any
 * instant of the checkpoint writes. A run of four epochs (improving at 1, 2
 * and 4) is killed before each file-system step of its checkpoint writes in
 * turn (a hook that never returns: nothing after it runs, not even cleanup),
 * with the store either up to date with every event sent or one event
 * behind (the app died with it in flight). Then the recovery the workbench
 * runs on open and on resume must leave: no `*.tmp-*` or `*.old-*` folders,
 * one row per complete folder with the epoch and step its files state,
 * `best/` holding the best epoch the newest state names and marked best in
 * the store, and the resume point at the newest checkpoint. Resuming the
 * sequence from there must end exactly as the run that was never killed.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { BEST_CHECKPOINT, readCheckpointHeader } from '../../src/main/lib/checkpoints/folders';
import { readCheckpoint, type CheckpointContents, type TrainingState } from '../../src/main/ml/train/checkpoint';
import { Checkpointer, recoverCheckpoints } from '../../src/main/ml/train/checkpointer';
import { initialEarlyStopping } from '../../src/main/ml/train/earlyStopping';
import { initialPlateauState } from '../../src/main/ml/train/schedule';
import { openSqliteStore, type SqliteExperimentStore } from '../../src/main/store/sqliteStore';
import { reconcileRunCheckpoints } from '../../src/main/training/checkpointRecords';
import { configFromPreset } from '../../src/shared/runConfig';
import type { TrainingCheckpoint } from '../../src/shared/trainingTypes';
import { tempDataDir } from '../helpers/storeFixtures';

const IMPROVED = [true, true, false, true];
const STEPS_PER_EPOCH = 10;

function stateAt(epoch: number): TrainingState {
  let bestEpoch: number | null = null;
  for (let e = 1; e <= epoch; e++) if (IMPROVED[e - 1]) bestEpoch = e;
  return {
    epochsCompleted: epoch,
    stepInEpoch: 0,
    globalStep: epoch * STEPS_PER_EPOCH,
    epochLossSum: 0,
    epochLossCount: 0,
    batchSize: 8,
    plateau: initialPlateauState(),
    earlyStopping: { ...initialEarlyStopping('cider'), bestEpoch, best: bestEpoch },
    history: [],
    random: { seed: 1, epoch, step: 0 },
    finished: epoch === IMPROVED.length,
  };
}

function contents(state: TrainingState, metrics: Record<string, number>): CheckpointContents {
  const config = configFromPreset('shapes-quick', { dataset: { path: '/data/shapes' } });
  const scale = state.epochsCompleted;
  return {
    json: {
      backend: 'cpu',
      config,
      decoder: { ...config.decoder, vocabSize: 6, featureDim: 4 },
      encoder: { id: 'scratch-cnn', inputSize: 64, normalization: 'zero-to-one', channels: 16, source: null, featureLayer: null, weightsIncluded: true },
      vocabulary: { format: 'captioner-vocabulary', version: 1, minCount: 1, maxSize: 100, tokens: ['<pad>', '<start>', '<end>', '<unk>'], counts: [0, 0, 0, 0] },
      state,
      metrics,
    },
    weights: [{ name: 'decoder/a', shape: [4], data: Float32Array.from([1, 2, 3, 4].map((v) => v * scale)) }],
    optimizer: { step: state.globalStep, m: [{ name: 'decoder/a', shape: [4], data: new Float32Array(4).fill(scale) }], v: [{ name: 'decoder/a', shape: [4], data: new Float32Array(4).fill(scale) }] },
  };
}

const metricsAt = (epoch: number) => ({ 'val/ciderD': epoch / 10 });

interface Harness {
  store: SqliteExperimentStore;
  runId: number;
  dir: string;
  remove(): void;
}

async function harness(): Promise<Harness> {
  const data = tempDataDir('ckpt-kill-');
  const store = openSqliteStore({ dataDir: data.dir });
  const run = await store.runs.create({ config: {}, status: 'running' });
  const dir = join(await store.runs.directory(run.id), 'checkpoints');
  return {
    store,
    runId: run.id,
    dir,
    remove() {
      store.close();
      data.remove();
    },
  };
}

/**
 * Runs epochs `from`+1 … 4 through the checkpointer, recording each event in
 * the store as the main process does. `killAt` stops the sequence before the
 * n-th file-system step; `dropLast` loses the event in flight at that moment.
 * Answers how many steps ran, and whether the kill was reached.
 */
async function runEpochs(h: Harness, from: number, killAt: number | null, dropLast: boolean): Promise<{ steps: number; killed: boolean }> {
  let steps = 0;
  let killed!: () => void;
  const reachedKill = new Promise<void>((resolve) => (killed = resolve));
  const pending: TrainingCheckpoint[] = [];
  let chain = Promise.resolve();
  const record = (event: TrainingCheckpoint) => {
    chain = chain.then(async () => {
      await h.store.checkpoints.add({ runId: h.runId, epoch: event.epoch, step: event.globalStep, path: event.path, metrics: event.metrics, isBest: event.isBest });
    });
  };
  const checkpointer = new Checkpointer(
    {
      dir: h.dir,
      contents: async (state, metrics) => contents(state, metrics),
      // An event reaches the store one event later, so the one in flight at a kill can be lost.
      emit: (event) => {
        pending.push(event);
        if (pending.length > 1) record(pending.shift()!);
      },
      log: () => undefined,
      ioHook: (label) => {
        if (killAt !== null && steps === killAt) {
          killed();
          return new Promise<void>(() => undefined); // the process is gone: nothing after this runs
        }
        steps += 1;
        void label;
      },
    },
    { last: null, best: null },
  );
  const sequence = (async () => {
    for (let epoch = from + 1; epoch <= IMPROVED.length; epoch++) await checkpointer.saveEpoch(stateAt(epoch), metricsAt(epoch), IMPROVED[epoch - 1]!);
  })();
  const finished = await Promise.race([sequence.then(() => false), reachedKill.then(() => true)]);
  if (!finished || !dropLast) for (const event of pending.splice(0)) record(event);
  await chain;
  return { steps, killed: finished };
}

const recoveryActions: string[] = [];

async function expectConsistent(h: Harness): Promise<{ newestEpoch: number }> {
  recoveryActions.push(...(await reconcileRunCheckpoints(h.store, h.runId)).actions);
  const names = existsSync(h.dir) ? readdirSync(h.dir).sort() : [];
  expect(names.filter((name) => /\.(tmp|old)-/.test(name))).toEqual([]);
  const headers = (await Promise.all(names.map((name) => readCheckpointHeader(join(h.dir, name))))).filter((x) => x !== null);
  expect(headers).toHaveLength(names.length);
  const rows = await h.store.checkpoints.list(h.runId);
  expect(rows.map((row) => [row.path, row.epoch, row.step, row.isBest]).sort()).toEqual(
    headers.map((header) => [header.path, header.epochsCompleted, header.globalStep, header.name === BEST_CHECKPOINT]).sort(),
  );
  const epochs = headers.filter((header) => header.name !== BEST_CHECKPOINT).sort((a, b) => b.globalStep - a.globalStep);
  const newest = epochs[0];
  const best = headers.find((header) => header.name === BEST_CHECKPOINT);
  if (!newest) {
    expect(best).toBeUndefined();
    return { newestEpoch: 0 };
  }
  expect(best?.epochsCompleted ?? null).toBe(newest.bestEpoch);
  if (best) {
    const [bestWeights, epochWeights] = await Promise.all([
      readCheckpoint(best.path),
      readCheckpoint(join(h.dir, `epoch-${String(best.epochsCompleted).padStart(4, '0')}`)).catch(() => null),
    ]);
    expect(Array.from(bestWeights.weights[0]!.data)).toEqual([1, 2, 3, 4].map((v) => v * best.epochsCompleted));
    if (epochWeights) expect(Array.from(bestWeights.weights[0]!.data)).toEqual(Array.from(epochWeights.weights[0]!.data));
  }
  // The store resumes from the newest step; best/ at the same step holds the same state.
  const point = await h.store.runs.resumePoint(h.runId);
  expect([point?.epoch, point?.step]).toEqual([newest.epochsCompleted, newest.globalStep]);
  const resumedFrom = await readCheckpointHeader(point!.checkpointPath);
  expect([resumedFrom?.epochsCompleted, resumedFrom?.globalStep, resumedFrom?.bestEpoch]).toEqual([newest.epochsCompleted, newest.globalStep, newest.bestEpoch]);
  return { newestEpoch: newest.epochsCompleted };
}

let open: Harness[] = [];
afterEach(() => {
  for (const h of open) h.remove();
  open = [];
});

describe('a kill during checkpoint writes', () => {
  it('leaves files, store rows and state in agreement at every instant, and a resume ends as an uninterrupted run', async () => {
    const reference = await harness();
    open.push(reference);
    const { steps: total } = await runEpochs(reference, 0, null, false);
    await expectConsistent(reference);
    const referenceRows = (await reference.store.checkpoints.list(reference.runId)).map((row) => [row.path.slice(reference.dir.length), row.epoch, row.step, row.isBest]);
    expect(total).toBeGreaterThan(40);

    for (let killAt = 0; killAt < total; killAt++) {
      for (const dropLast of [false, true]) {
        const h = await harness();
        open.push(h);
        const { killed } = await runEpochs(h, 0, killAt, dropLast);
        expect(killed).toBe(true);
        const { newestEpoch } = await expectConsistent(h);
        // The engine's own recovery on resume finds nothing left to change.
        const { best } = await recoverCheckpoints(h.dir, () => undefined);
        expect(best !== null).toBe(existsSync(join(h.dir, BEST_CHECKPOINT)));
        await runEpochs(h, newestEpoch, null, false);
        await expectConsistent(h);
        const rows = (await h.store.checkpoints.list(h.runId)).map((row) => [row.path.slice(h.dir.length), row.epoch, row.step, row.isBest]);
        expect(rows.sort()).toEqual([...referenceRows].sort());
        h.remove();
        open = open.filter((x) => x !== h);
      }
    }
    // The kills did produce every kind of disagreement recovery exists for.
    for (const kind of [/^removed the unfinished /, /^restored best from /, /^best\/ held epoch \d+; copied epoch-/, /^recorded /, /^checkpoint best: the store said epoch/]) {
      expect(recoveryActions.some((action) => kind.test(action)), String(kind)).toBe(true);
    }
  });
});
