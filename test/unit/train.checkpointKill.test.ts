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
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { BEST_CHECKPOINT, readCheckpointHeader } from '../../src/main/lib/checkpoints/folders';
import { readCheckpoint, type CheckpointContents, type TrainingState } from '../../src/main/ml/train/checkpoint';
import { Checkpointer, recoverCheckpoints } from '../../src/main/ml/train/checkpointer';
import { initialEarlyStopping } from '../../src/main/ml/train/earlyStopping';
import { initialPlateauState } from '../../src/main/ml/train/schedule';
import { openSqliteStore, type SqliteExperimentStore } from '../../src/main/store/sqliteStore';
import { reconcileRunCheckpoints } from '../../src/main/training/checkpointRecords';
import { configFromPreset } from '../../src/shared/runConfig';
import type { TrainingCheckpoint } from '../../src/shared/trainingTypes';
import { createWorkbench } from '../../src/main/workbench';
import { fakeSpawner } from '../helpers/fakeEngine';
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
    earlyStopping: { ...initialEarlyStopping('val/ciderD'), bestEpoch, best: bestEpoch },
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

async function harness(options: { owner?: { host: string; pid: number } } = {}): Promise<Harness & { dataDir: string }> {
  const data = tempDataDir('ckpt-kill-');
  const store = openSqliteStore({ dataDir: data.dir, ...(options.owner ? { owner: options.owner } : {}) });
  const run = await store.runs.create({ config: {}, status: 'running' });
  const dir = join(await store.runs.directory(run.id), 'checkpoints');
  return {
    store,
    runId: run.id,
    dir,
    dataDir: data.dir,
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

  it('a write that fails at any step (the disk is full) keeps the previous checkpoints, and recovery makes everything agree', async () => {
    const reference = await harness();
    open.push(reference);
    const { steps: total } = await runEpochs(reference, 0, null, false);
    for (let failAt = 0; failAt < total; failAt += 1) {
      const h = await harness();
      open.push(h);
      let steps = 0;
      const recorded: Promise<unknown>[] = [];
      const checkpointer = new Checkpointer(
        {
          dir: h.dir,
          contents: async (state, metrics) => contents(state, metrics),
          emit: (event) => recorded.push(h.store.checkpoints.add({ runId: h.runId, epoch: event.epoch, step: event.globalStep, path: event.path, metrics: event.metrics, isBest: event.isBest })),
          log: () => undefined,
          ioHook: (label) => {
            if (steps++ === failAt) throw Object.assign(new Error(`ENOSPC: no space left on device, ${label}`), { code: 'ENOSPC' });
          },
        },
        { last: null, best: null },
      );
      let failed: Error | null = null;
      try {
        for (let epoch = 1; epoch <= IMPROVED.length; epoch++) await checkpointer.saveEpoch(stateAt(epoch), metricsAt(epoch), IMPROVED[epoch - 1]!);
      } catch (error) {
        failed = error as Error;
      }
      await Promise.all(recorded);
      expect(failed?.message, `step ${failAt}`).toMatch(/ENOSPC/);
      // The failed write cleaned up after itself, except what only a later step could remove.
      expect(readdirSync(h.dir).filter((name) => name.includes('.tmp-'))).toEqual([]);
      await expectConsistent(h);
      h.remove();
      open = open.filter((x) => x !== h);
    }
  });

  it('is reconciled when the workbench opens: the interrupted run is crashed and its rows and best/ match the files', async () => {
    // A run of a workbench process that no longer exists, killed after epoch 2's checkpoint and before best/ and the rows caught up.
    const h = await harness({ owner: { host: hostname(), pid: 4_000_001 } });
    open.push(h);
    // Reproduce the instant in the real run's folder: find the kill point where epoch-0002 exists and best/ still holds epoch 1.
    let killAt = 0;
    for (; ; killAt++) {
      const probe = await harness();
      await runEpochs(probe, 0, killAt, true);
      const best = await readCheckpointHeader(join(probe.dir, BEST_CHECKPOINT));
      const second = await readCheckpointHeader(join(probe.dir, 'epoch-0002'));
      probe.remove();
      if (best?.epochsCompleted === 1 && second) break;
    }
    await runEpochs(h, 0, killAt, true);
    h.store.db.close(); // the process dies: no status change, no close
    h.remove = () => rmSync(h.dataDir, { recursive: true, force: true });
    expect((await readCheckpointHeader(join(h.dir, BEST_CHECKPOINT)))?.epochsCompleted).toBe(1);

    const workbench = createWorkbench({ dataDir: h.dataDir, echoLogs: false, spawnEngine: fakeSpawner((call, reply) => reply({ type: 'result', id: call.id, value: null })) });
    try {
      const { store } = workbench.services;
      expect((await store.runs.get(h.runId))?.status).toBe('crashed');
      await vi.waitFor(async () => {
        const rows = await store.checkpoints.list(h.runId);
        expect(rows.map((row) => [row.path.slice(h.dir.length), row.epoch, row.isBest]).sort()).toEqual([
          ['/best', 2, true],
          ['/epoch-0001', 1, false],
          ['/epoch-0002', 2, false],
        ]);
      });
      expect((await readCheckpointHeader(join(h.dir, BEST_CHECKPOINT)))?.epochsCompleted).toBe(2);
      expect(readdirSync(h.dir).filter((name) => /\.(tmp|old)-/.test(name))).toEqual([]);
      expect(workbench.services.logger.recent(100).some((entry) => /copied epoch-0002/.test(entry.message))).toBe(true);
    } finally {
      await workbench.close();
    }
  });
});
