/**
 * Pruning decisions read from the store: a study task that restarts mid-way
 * (a new process, a new pruner object, nothing kept in memory) decides
 * exactly as one that never stopped, for successive halving and Hyperband
 * (whose rung records and 'auto' resources lived in the task's memory
 * before). Each study here runs against a real SQLite store the way the
 * study task drives it: up to `parallel` trials report round robin, each
 * value is stored, the pruner is asked, and pruned or last-step trials are
 * finished in the store.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createPruner, type Pruner } from '../../src/main/lib/tuning';
import { openSqliteStore, type SqliteExperimentStore } from '../../src/main/store/sqliteStore';
import { derivedRungAttrs, StoredPruning } from '../../src/main/tuning/storedPruning';
import { studySettings } from '../../src/main/tuning/studySettings';
import { toStudyView } from '../../src/main/tuning/studyView';
import { simulateStudy, type Decision } from '../helpers/prunerSimulation';
import { tempDataDir } from '../helpers/storeFixtures';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

/** Learning curves (lower is better) from a seeded generator: each trial has its own level and noise. */
function curves(count: number, steps: number, seed: number): number[][] {
  let state = seed >>> 0;
  const next = () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
  return Array.from({ length: count }, () => {
    const level = 1 + 3 * next();
    return Array.from({ length: steps }, (_, step) => level + 2 / (step + 1) + 0.3 * next());
  });
}

type Mode =
  /** The study task as built: decisions from the stored rows. */
  | 'stored'
  /** The earlier design: the library's pruner with rung attrs kept in memory. */
  | 'memory';

/**
 * Runs a study of `data` curves against a store; at report number `restartAt`
 * the "task" restarts: the store is closed and opened again and every object
 * the task held is built anew from the stored study.
 */
async function runStudy(pruner: string, data: number[][], parallel: number, mode: Mode, restartAt = -1): Promise<Decision[]> {
  const { dir, remove } = tempDataDir('stored-pruning-');
  let tick = Date.parse('2026-01-01T00:00:00Z');
  // Every write a millisecond later, so finish times order the trials as they ended.
  const clock = () => (tick += 1);
  const open = () => openSqliteStore({ dataDir: dir, clock });
  let store: SqliteExperimentStore = open();
  cleanups.push(async () => {
    await store.close();
    remove();
  });
  const created = await store.studies.create({ name: 'restarts', objective: 'val/loss', direction: 'minimize', searchSpace: { 'decoder.units': { type: 'int', low: 128, high: 256 } }, sampler: 'random', pruner, baseConfig: {} });
  const task = () => {
    const settings = studySettings(created);
    return { stored: new StoredPruning(created, settings.pruner), memory: settings.pruner as Pruner, attrs: new Map<number, Record<string, number>>() };
  };
  let held = task();
  const decisions: Decision[] = [];
  const pending = data.map((_, index) => index);
  let active: Array<{ trialId: number; number: number; curve: number[]; step: number }> = [];
  let reports = 0;
  while (pending.length > 0 || active.length > 0) {
    while (pending.length > 0 && active.length < parallel) {
      const trial = await store.studies.createTrial(created.id, {});
      active.push({ trialId: trial.id, number: trial.number, curve: data[pending.shift()!]!, step: 0 });
    }
    const still: typeof active = [];
    for (const entry of active) {
      if (reports === restartAt) {
        await store.close();
        store = open();
        held = task();
      }
      reports += 1;
      const { trialId, number, curve, step } = entry;
      await store.studies.reportIntermediate(trialId, step, curve[step]!);
      const rows = await Promise.all((await store.studies.trials(created.id)).map(async (trial) => ({ trial, intermediates: await store.studies.intermediates(trial.id) })));
      let prune: boolean;
      if (mode === 'stored') prune = held.stored.decide(rows, number).prune;
      else {
        const view = toStudyView(created, rows.map((row) => ({ ...row, attrs: held.attrs.get(row.trial.id) })));
        const decision = held.memory.shouldPrune({ study: view, trial: view.trials.find((t) => t.number === number)! });
        if (decision.attrs) held.attrs.set(trialId, { ...held.attrs.get(trialId), ...decision.attrs });
        prune = decision.prune;
      }
      decisions.push([number, step, prune]);
      if (prune) await store.studies.setTrialState(trialId, 'pruned');
      else if (step + 1 === curve.length) await store.studies.setTrialState(trialId, 'completed', { value: curve[step]! });
      else {
        entry.step = step + 1;
        still.push(entry);
      }
    }
    active = still;
  }
  return decisions;
}

const pruned = (decisions: Decision[]) => decisions.filter(([, , prune]) => prune).length;

describe('pruning decisions from the store', () => {
  const pruners = {
    'successive halving': JSON.stringify({ name: 'successiveHalving', options: { minResource: 1, reductionFactor: 2 } }),
    'successive halving, auto minResource': JSON.stringify({ name: 'halving', options: { reductionFactor: 2 } }),
    hyperband: JSON.stringify({ name: 'hyperband', options: { minResource: 1, maxResource: 8, reductionFactor: 2 } }),
    'hyperband, auto maxResource': JSON.stringify({ name: 'hyperband', options: { minResource: 1, reductionFactor: 2 } }),
  };

  for (const [label, pruner] of Object.entries(pruners)) {
    it(`${label}: a task restarted mid-way decides as one that never stopped`, async () => {
      const data = curves(14, 8, 7);
      const uninterrupted = await runStudy(pruner, data, 3, 'stored');
      // Enough happens for the comparison to mean something: several trials pruned at several rungs.
      expect(pruned(uninterrupted)).toBeGreaterThanOrEqual(3);
      expect(new Set(uninterrupted.filter(([, , p]) => p).map(([, step]) => step)).size).toBeGreaterThanOrEqual(2);
      for (const restartAt of [20, 45, 70]) {
        expect(await runStudy(pruner, data, 3, 'stored', restartAt), `restart at report ${restartAt}`).toEqual(uninterrupted);
      }
    });
  }

  it('the rung records kept in memory lose the rungs recorded before a restart (what the store now keeps)', async () => {
    const pruner = pruners['successive halving'];
    const data = curves(14, 8, 7);
    const kept = await runStudy(pruner, data, 3, 'memory');
    const differing: number[] = [];
    for (const restartAt of [15, 30, 45, 60, 75]) if (JSON.stringify(await runStudy(pruner, data, 3, 'memory', restartAt)) !== JSON.stringify(kept)) differing.push(restartAt);
    expect(differing.length).toBeGreaterThan(0);
    // Without a restart the in-memory pruner and the stored decisions agree.
    expect(await runStudy(pruner, data, 3, 'stored')).toEqual(kept);
  });

  it("decides as Optuna's pruners with their attrs kept in memory (the tuning library's simulation) when the resources are given", async () => {
    const data = curves(14, 8, 11);
    for (const spec of [pruners['successive halving'], pruners.hyperband]) {
      const parsed = JSON.parse(spec) as { name: string; options: object };
      const reference = simulateStudy(createPruner(parsed as never), 'minimize', data, 3, 'restarts').decisions;
      expect(await runStudy(spec, data, 3, 'stored')).toEqual(reference);
    }
  });
});

describe('rungs from intermediate values', () => {
  it('records rung r at the first step reported at or after minResource · factor^(rate + r)', () => {
    const values = new Map([[1, 5], [2, 4], [3, 3.5], [5, 3], [9, 2]]);
    expect(derivedRungAttrs(values, { minResource: 1, reductionFactor: 2, rate: 0 })).toEqual({ completed_rung_0: 5, completed_rung_1: 4, completed_rung_2: 3, completed_rung_3: 2 });
    expect(derivedRungAttrs(values, { minResource: 1, reductionFactor: 2, rate: 1 })).toEqual({ completed_rung_0: 4, completed_rung_1: 3, completed_rung_2: 2 });
    expect(derivedRungAttrs(values, { minResource: 1, reductionFactor: 2, rate: 0 }, 5)).toEqual({ completed_rung_0: 5, completed_rung_1: 4 });
    expect(derivedRungAttrs(new Map(), { minResource: 1, reductionFactor: 3, rate: 0 })).toEqual({});
  });
});
