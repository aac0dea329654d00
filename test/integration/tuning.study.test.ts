/**
 * Studies run end to end in a workbench whose engine is a stand-in: each
 * training run reports a validation loss per epoch that depends on its
 * learning rate and width, and honours stop requests like the real engine
 * (answering `stopped` after its step). Everything else is real: the store,
 * the task runtime, the training service, the tuning service and library.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dispatch } from '../../src/main/api/handlers';
import type { MethodName, RequestOf, ResponseOf } from '../../src/shared/contract';
import { ApiError } from '../../src/shared/errors';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ToEngine } from '../../src/main/engine/protocol';
import type { RunConfig } from '../../src/shared/runConfig';
import type { StudyRecord } from '../../src/shared/storeTypes';
import { createWorkbench, type Workbench } from '../../src/main/workbench';
import { fakeSpawner } from '../helpers/fakeEngine';
import { tempDir } from '../helpers/datasetFixtures';

/** Lower is better; the best learning rate is 1e-3 and the best width 256. */
const quality = (config: RunConfig) => (Math.log10(config.optimizer.learningRate) + 3) ** 2 + ((config.decoder.units - 256) / 128) ** 2;

function trainingEngine(epochMs = 10) {
  const spawner = fakeSpawner((call, reply) => {
    if (call.method !== 'training.run') return reply({ type: 'error', id: call.id, error: { code: 'internal', message: `unexpected ${call.method}` } });
    const { config } = call.params as { config: RunConfig };
    const epochs = config.training.epochs;
    const cancelled = () => spawner.spawned.some((channel) => channel.sent.some((m: ToEngine) => m.type === 'cancel' && m.id === call.id));
    const result = (outcome: 'completed' | 'stopped', epoch: number) => ({
      type: 'result' as const,
      id: call.id,
      value: { outcome, epochsCompleted: epoch, globalStep: epoch, lastCheckpoint: null, bestCheckpoint: null, bestEpoch: epoch || null, validation: null },
    });
    reply({
      type: 'event',
      id: call.id,
      event: { kind: 'started', backend: 'fake', device: 'cpu', batchSize: 16, stepsPerEpoch: 1, epochs, trainImages: 1, trainCaptions: 1, valImages: 1, validationImages: 1, vocabularySize: 10, parameters: 1, warnings: [], resumedFrom: null, epochsCompleted: 0, globalStep: 0 },
    });
    let epoch = 0;
    const tick = () => {
      if (cancelled()) return reply(result('stopped', epoch));
      epoch += 1;
      const valLoss = 1 + quality(config) + 1 / epoch;
      reply({
        type: 'event',
        id: call.id,
        event: { kind: 'epoch', epoch, epochs, globalStep: epoch, trainLoss: valLoss, valLoss, bleu4: 0.1, ciderD: 0.2, learningRate: config.optimizer.learningRate, seconds: 0.01, validationSeconds: 0, improved: true, bestEpoch: epoch, samples: [] },
      });
      if (epoch === epochs) reply(result('completed', epoch));
      else setTimeout(tick, epochMs);
    };
    setTimeout(tick, epochMs);
  });
  return spawner;
}

let temp: ReturnType<typeof tempDir>;
let workbench: Workbench;

beforeEach(() => {
  temp = tempDir('tuning-study-');
  workbench = createWorkbench({ dataDir: join(temp.dir, 'data'), echoLogs: false, spawnEngine: trainingEngine(), tuningPollMs: 20, tasks: { lanes: { compute: 2 } } });
});
afterEach(async () => {
  await workbench.close();
  temp.cleanup();
});

const space = {
  'optimizer.learningRate': { type: 'float', low: 1e-5, high: 1e-1, log: true },
  'decoder.units': { type: 'int', low: 128, high: 512, step: 64 },
};
/** Training is refused for a dataset path that does not exist; the stand-in engine never reads it. */
const datasetPath = mkdtempSync(join(tmpdir(), 'tuning-dataset-'));
const baseConfig = { dataset: { path: datasetPath }, training: { epochs: 6 } };

async function waitForStudy(study: StudyRecord, timeoutMs = 45_000): Promise<void> {
  const task = await workbench.services.tasks.wait(study.taskId!, { signal: AbortSignal.timeout(timeoutMs), pollMs: 20 });
  expect(task.state, task.error ?? '').toBe('completed');
}

describe('a tuning study', () => {
  it('runs its trials as training runs, records values per epoch, prunes and ends with the best trial', async () => {
    const { tuning, store } = workbench.services;
    const study = await tuning.createStudy({
      name: 'lr and width',
      objective: 'val/loss',
      direction: 'minimize',
      searchSpace: space,
      sampler: { name: 'tpe', options: { seed: 3, nStartupTrials: 4 } },
      pruner: { name: 'median', options: { nStartupTrials: 2 } },
      baseConfig,
      trials: 10,
      parallel: 2,
    });
    await waitForStudy(study);
    const trials = await store.studies.trials(study.id);
    expect(trials).toHaveLength(10);
    expect(trials.map((t) => t.number)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    const completed = trials.filter((t) => t.state === 'completed');
    const pruned = trials.filter((t) => t.state === 'pruned');
    expect(completed.length).toBeGreaterThan(2);
    expect(pruned.length).toBeGreaterThan(0);
    expect(completed.length + pruned.length).toBe(10);
    for (const trial of trials) {
      expect(trial.runId).not.toBeNull();
      const run = (await store.runs.get(trial.runId!))!;
      const config = run.config as unknown as RunConfig;
      // The trial's parameters are what its run trained with.
      expect(config.optimizer.learningRate).toBe(trial.params['optimizer.learningRate']);
      expect(config.decoder.units).toBe(trial.params['decoder.units']);
      expect(config.training.epochs).toBe(6);
      const intermediates = await store.studies.intermediates(trial.id);
      const expected = (epoch: number) => 1 + quality(config) + 1 / epoch;
      for (const point of intermediates) expect(point.value).toBeCloseTo(expected(point.step), 9);
      if (trial.state === 'completed') {
        expect(intermediates.map((p) => p.step)).toEqual([1, 2, 3, 4, 5, 6]);
        expect(trial.value).toBeCloseTo(expected(6), 9);
        expect(run.status).toBe('completed');
      } else {
        // Pruned trials stopped early: their runs were stopped after an epoch.
        expect(intermediates.length).toBeLessThan(6);
        expect(trial.value).toBeNull();
        expect((await workbench.services.training.finished(run.id, { signal: AbortSignal.timeout(10_000) })).status).toBe('stopped');
      }
    }
    const task = (await store.tasks.get(study.taskId!))!;
    const best = completed.reduce((a, b) => (b.value! < a.value! ? b : a));
    expect(task.result).toMatchObject({ studyId: study.id, finished: 10, completed: completed.length, pruned: pruned.length, best: { trialNumber: best.number, value: best.value } });
    expect((await store.studies.get(study.id))!.status).toBe('completed');
    const importance = await tuning.importances(study.id);
    expect(importance.completeTrials).toBe(completed.length);
    expect(Object.keys(importance.normalized).sort()).toEqual(['decoder.units', 'optimizer.learningRate']);
  }, 60_000);

  it('walks a grid to its end and stops when the grid is exhausted', async () => {
    const { tuning, store } = workbench.services;
    const study = await tuning.createStudy({
      name: 'grid',
      objective: 'val/loss',
      direction: 'minimize',
      searchSpace: { 'decoder.units': { type: 'int', low: 128, high: 256, step: 128 }, 'decoder.cell': { type: 'categorical', choices: ['lstm', 'gru'] } },
      sampler: 'grid',
      pruner: 'none',
      baseConfig: { dataset: { path: datasetPath }, training: { epochs: 2 } },
      trials: 50,
      parallel: 3,
    });
    await waitForStudy(study);
    const trials = await store.studies.trials(study.id);
    expect(trials).toHaveLength(4);
    expect(new Set(trials.map((t) => `${String(t.params['decoder.units'])}/${String(t.params['decoder.cell'])}`))).toEqual(new Set(['128/lstm', '128/gru', '256/lstm', '256/gru']));
    expect(trials.every((t) => t.state === 'completed')).toBe(true);
  }, 60_000);

  it('stops with its trials when the study is stopped, and can be resumed to the end', async () => {
    // An engine with slow epochs keeps trials running long enough to stop them.
    await workbench.close();
    workbench = createWorkbench({ dataDir: join(temp.dir, 'data'), echoLogs: false, spawnEngine: trainingEngine(200), tuningPollMs: 20, tasks: { lanes: { compute: 2 } } });
    const { tuning, store, tasks } = workbench.services;
    const study = await tuning.createStudy({ name: 'stopped', objective: 'val/loss', direction: 'minimize', searchSpace: space, sampler: 'random', pruner: 'none', baseConfig, trials: 4, parallel: 2 });
    const deadline = Date.now() + 20_000;
    while ((await store.studies.trials(study.id)).filter((t) => t.runId !== null).length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    await tasks.stop(study.taskId!);
    const stopped = await tasks.wait(study.taskId!, { signal: AbortSignal.timeout(20_000), pollMs: 20 });
    expect(stopped.state).toBe('cancelled');
    const trials = await store.studies.trials(study.id);
    expect(trials.length).toBeGreaterThanOrEqual(2);
    expect(trials.every((t) => t.state === 'cancelled')).toBe(true);
    // Their runs were asked to stop and do so after their current step.
    for (const t of trials) {
      const run = await workbench.services.training.finished(t.runId!, { signal: AbortSignal.timeout(10_000) });
      expect(run.status).toBe('stopped');
    }
    expect((await store.studies.get(study.id))!.status).toBe('stopped');
    // Resumed, it adds trials until 4 have finished (the cancelled ones count as finished).
    await tasks.resume(study.taskId!);
    await waitForStudy(study);
    const after = await store.studies.trials(study.id);
    expect(after).toHaveLength(4);
    expect(after.filter((t) => t.state === 'completed')).toHaveLength(4 - trials.length);
  }, 60_000);

  it('refuses a study whose space, sampler, pruner or objective is wrong, naming the field', async () => {
    const { tuning } = workbench.services;
    const input = { name: 'bad', objective: 'val/loss', direction: 'minimize' as const, searchSpace: space, baseConfig };
    await expect(tuning.createStudy({ ...input, searchSpace: { 'decoder.units': { type: 'int', low: 128, high: 250, step: 64 } } })).rejects.toThrow(/searchSpace: .*decoder\.units\.step/);
    await expect(tuning.createStudy({ ...input, searchSpace: { 'decoder.width': { type: 'int', low: 1, high: 2 } } })).rejects.toThrow(/decoder\.width: is not a RunConfig field/);
    await expect(tuning.createStudy({ ...input, sampler: 'grid' })).rejects.toThrow(/sampler: grid sampler: optimizer\.learningRate is a continuous float/);
    await expect(tuning.createStudy({ ...input, pruner: { name: 'median', options: { nWarmup: 2 } } })).rejects.toThrow(/pruner/);
    await expect(tuning.createStudy({ ...input, objective: 'val/accuracy' })).rejects.toThrow(/objective: must be one of val\/ciderD, val\/bleu4, val\/loss/);
    await expect(tuning.createStudy({ ...input, baseConfig: {} })).rejects.toThrow(/baseConfig\.dataset/);
  });
});

async function call<M extends MethodName>(method: M, request: RequestOf<M>): Promise<ResponseOf<M>> {
  const envelope = await dispatch(workbench.handlers, method, request, { transport: 'websocket' });
  if (!envelope.ok) throw ApiError.fromData(envelope.error);
  return envelope.value as ResponseOf<M>;
}

describe('tuning.* through the API', () => {
  it('creates a study, lists it, shows its trials with per-epoch values, and gives importances', async () => {
    const created = await call('tuning.create', {
      name: 'api study',
      objective: 'val/loss',
      direction: 'minimize',
      searchSpace: space,
      sampler: { name: 'random', options: { seed: 2 } },
      pruner: 'none',
      baseConfig: { dataset: { path: datasetPath }, training: { epochs: 3 } },
      trials: 5,
      parallel: 2,
    });
    await waitForStudy(created);
    expect((await call('tuning.list', {})).map((s) => s.name)).toEqual(['api study']);
    const details = await call('tuning.get', { studyId: created.id });
    expect(details.study.status).toBe('completed');
    expect(details.trials).toHaveLength(5);
    for (const trial of details.trials) expect(trial.intermediates.map((p) => p.step)).toEqual([1, 2, 3]);
    const values = details.trials.map((t) => t.value!);
    expect(details.best!.value).toBe(Math.min(...values));
    const importance = await call('tuning.importance', { studyId: created.id });
    expect(importance.completeTrials).toBe(5);
    expect(Object.values(importance.importances).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
    // A completed study is not resumed; a stop request on it changes nothing.
    await expect(call('tuning.resume', { studyId: created.id })).rejects.toMatchObject({ code: 'conflict' });
  }, 60_000);

  it('runs enqueued trials first, with their fixed parameters and the rest sampled, counting against the budget', async () => {
    // Created and enqueued where nothing executes, so no sampled trial can start before the enqueued ones exist.
    await workbench.close();
    workbench = createWorkbench({ dataDir: join(temp.dir, 'data'), echoLogs: false, spawnEngine: trainingEngine(), tuningPollMs: 20, tasks: { execute: false } });
    const base = { dataset: { path: datasetPath }, training: { epochs: 2 } };
    // No direction: a loss is minimised.
    const study = await call('tuning.create', { name: 'enqueued', objective: 'val/loss', searchSpace: space, sampler: { name: 'random', options: { seed: 5 } }, pruner: 'none', baseConfig: base, trials: 4, parallel: 1 });
    expect(study.direction).toBe('minimize');
    const full = await call('tuning.enqueue', { studyId: study.id, params: { 'optimizer.learningRate': 0.001, 'decoder.units': 256 } });
    const partial = await call('tuning.enqueue', { studyId: study.id, params: { 'decoder.units': 448 } });
    expect([full, partial].map((t) => [t.number, t.state, t.runId])).toEqual([[0, 'queued', null], [1, 'queued', null]]);
    await expect(call('tuning.enqueue', { studyId: study.id, params: { 'decoder.width': 3 } })).rejects.toThrow(/params\.decoder\.width: not a parameter of study enqueued's search space \(its parameters: decoder\.units, optimizer\.learningRate\)/);
    await expect(call('tuning.enqueue', { studyId: study.id, params: { 'decoder.units': 300 } })).rejects.toThrow(/params\.decoder\.units: 300 is outside the search space/);
    await expect(call('tuning.enqueue', { studyId: study.id, params: { 'optimizer.learningRate': 1 } })).rejects.toThrow(/params\.optimizer\.learningRate: 1 is outside/);
    // A budget of one and two enqueued trials: the second never starts, and says why.
    const small = await call('tuning.create', { name: 'small', objective: 'val/bleu4', searchSpace: space, sampler: 'random', pruner: 'none', baseConfig: base, trials: 1 });
    expect(small.direction).toBe('maximize');
    await call('tuning.enqueue', { studyId: small.id, params: { 'decoder.units': 128 } });
    await call('tuning.enqueue', { studyId: small.id, params: { 'decoder.units': 192 } });

    await workbench.close();
    workbench = createWorkbench({ dataDir: join(temp.dir, 'data'), echoLogs: false, spawnEngine: trainingEngine(), tuningPollMs: 20, tasks: { lanes: { compute: 2 } } });
    const { store } = workbench.services;
    await waitForStudy(study);
    await waitForStudy(small);
    const trials = await store.studies.trials(study.id);
    expect(trials.map((t) => [t.number, t.state])).toEqual([[0, 'completed'], [1, 'completed'], [2, 'completed'], [3, 'completed']]);
    expect(trials[0]!.params).toEqual({ 'optimizer.learningRate': 0.001, 'decoder.units': 256 });
    expect(trials[1]!.params['decoder.units']).toBe(448);
    const lr = trials[1]!.params['optimizer.learningRate'] as number;
    expect(lr).toBeGreaterThanOrEqual(1e-5);
    expect(lr).toBeLessThanOrEqual(1e-1);
    // One at a time, enqueued first: each trial started after the one before it.
    const starts = trials.map((t) => Date.parse(t.startedAt!));
    expect([...starts].sort((a, b) => a - b)).toEqual(starts);
    const run = (await store.runs.get(trials[1]!.runId!))!;
    expect((run.config as unknown as RunConfig).decoder.units).toBe(448);
    const smallTrials = await store.studies.trials(small.id);
    expect(smallTrials.map((t) => [t.number, t.state, t.params['decoder.units']])).toEqual([[0, 'completed', 128], [1, 'cancelled', 192]]);
    expect(smallTrials[1]!.error).toMatch(/The study ended \(its trials were run\) before this enqueued trial started/);
    await expect(call('tuning.enqueue', { studyId: study.id, params: {} })).rejects.toMatchObject({ code: 'conflict' });
  }, 60_000);

  it('answers the default space and names bad fields', async () => {
    const defaults = await call('tuning.defaultSpace', {});
    expect(defaults['decoder.cell']).toEqual({ type: 'categorical', choices: ['lstm', 'gru'] });
    await expect(call('tuning.create', { name: 'x', objective: 'val/accuracy' as never, direction: 'minimize', baseConfig: {} })).rejects.toMatchObject({ code: 'invalid_request' });
    await expect(
      call('tuning.create', { name: 'x', objective: 'val/loss', direction: 'minimize', baseConfig: baseConfig, searchSpace: { 'decoder.units': { type: 'int', low: 1, high: 0 } } }),
    ).rejects.toThrow(/decoder\.units\.low: must not exceed high/);
    await expect(call('tuning.get', { studyId: 99 })).rejects.toMatchObject({ code: 'not_found' });
  });
});
