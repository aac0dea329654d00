/**
 * Where queued work runs, through the validated API of a real workbench over
 * a real SQLite store: `placement: 'workers'` queues a run or a study that
 * this workbench's own runtime never claims (a `captioner worker` does),
 * `here` queues it for anyone, this workbench included; the store methods
 * say which store is in use and which processes worked on it.
 */
import { mkdirSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { dispatch } from '../../src/main/api/handlers';
import { createWorkbench, type Workbench } from '../../src/main/workbench';
import type { MethodName, RequestOf, ResponseOf } from '../../src/shared/contract';
import { ApiError } from '../../src/shared/errors';
import { fakeSpawner } from '../helpers/fakeEngine';
import { tempDataDir } from '../helpers/storeFixtures';

let data: ReturnType<typeof tempDataDir>;
let workbench: Workbench;
let engineCalls: string[];

beforeEach(() => {
  data = tempDataDir('placement-api-');
  engineCalls = [];
  workbench = createWorkbench({
    dataDir: data.dir,
    echoLogs: false,
    store: 'sqlite',
    tasks: { pollMs: 10, watchdogMs: 0 },
    // Any training that reaches this engine ran here; it fails at once, saying so.
    spawnEngine: fakeSpawner((call, reply) => {
      engineCalls.push(call.method);
      reply({ type: 'error', id: call.id, error: { code: 'internal', message: `ran here: ${call.method}` } });
    }),
  });
});

afterEach(async () => {
  await workbench.close();
  data.remove();
});

async function call<M extends MethodName>(method: M, request: RequestOf<M>): Promise<ResponseOf<M>> {
  const envelope = await dispatch(workbench.handlers, method, request, { transport: 'websocket' });
  if (!envelope.ok) throw ApiError.fromData(envelope.error);
  return envelope.value as ResponseOf<M>;
}

function config() {
  const dataset = join(data.dir, 'dataset');
  mkdirSync(dataset, { recursive: true });
  return { dataset: { path: dataset }, training: { epochs: 1 } };
}

describe('placement through the API', () => {
  it('queues a run for the workers, which this workbench never trains, and one for here, which it does', async () => {
    const forWorkers = await call('training.start', { config: config(), placement: 'workers' });
    const here = await call('training.start', { config: config(), placement: 'here' });
    const ended = await workbench.services.tasks.wait(here.taskId, { pollMs: 10 });
    expect(ended).toMatchObject({ state: 'failed', placement: 'any', error: expect.stringMatching(/ran here/) });
    // Polled again after the other run ended: still nobody here claims it.
    workbench.services.tasks.wake();
    await new Promise((resolve) => setTimeout(resolve, 50));
    const waiting = await call('tasks.get', { taskId: forWorkers.taskId });
    expect(waiting).toMatchObject({ state: 'queued', placement: 'workers', owner: null });
    expect((await call('runs.get', { runId: forWorkers.runId })).status).toBe('queued');
    expect(engineCalls.filter((method) => method.startsWith('training.'))).toHaveLength(1);
    // The default is here.
    const plain = await call('training.start', { config: config() });
    expect((await call('tasks.get', { taskId: plain.taskId })).placement).toBe('any');
  });

  it('queues a study for the workers with its task placed there', async () => {
    const study = await call('tuning.create', {
      name: 'on the workers',
      objective: 'val/loss',
      direction: 'minimize',
      baseConfig: config(),
      trials: 2,
      placement: 'workers',
    });
    workbench.services.tasks.wake();
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(await call('tasks.get', { taskId: study.taskId! })).toMatchObject({ kind: 'study', state: 'queued', placement: 'workers' });
    // Given back to anyone, this workbench takes it and starts its trials.
    await call('tuning.resume', { studyId: study.id, placement: 'here' });
    await expect.poll(async () => (await call('tasks.get', { taskId: study.taskId! })).state, { timeout: 5_000 }).not.toBe('queued');
    expect((await call('tasks.get', { taskId: study.taskId! })).placement).toBe('any');
  });

  it('on a worker, a study queued for the workers queues its trials’ runs for the workers too', async () => {
    await workbench.close();
    workbench = createWorkbench({
      dataDir: data.dir,
      echoLogs: false,
      store: 'sqlite',
      tasks: { pollMs: 10, watchdogMs: 0, placements: ['any', 'workers'] },
      tuningPollMs: 20,
      spawnEngine: fakeSpawner((call, reply) => reply({ type: 'error', id: call.id, error: { code: 'internal', message: 'no engine here' } })),
    });
    const study = await call('tuning.create', { name: 'spread', objective: 'val/loss', direction: 'minimize', baseConfig: config(), trials: 1, placement: 'workers' });
    const trialRun = async () => (await call('runs.list', {})).runs.find((listed) => listed.tags.includes('study:spread'));
    await expect.poll(trialRun, { timeout: 10_000 }).toBeDefined();
    const run = (await trialRun())!;
    expect((await call('tasks.get', { taskId: run.taskId! })).placement).toBe('workers');
    expect((await call('tasks.get', { taskId: study.taskId! })).owner?.worker).toBe('workbench');
  });

  it('gives a queued task to the workers and back, and refuses once it has started', async () => {
    // Queued for the workers, so it waits while it is moved about.
    const run = await call('training.start', { config: config(), placement: 'workers' });
    expect((await call('tasks.place', { taskId: run.taskId, placement: 'workers' })).placement).toBe('workers');
    const back = await call('tasks.place', { taskId: run.taskId, placement: 'here' });
    expect(back).toMatchObject({ placement: 'any' });
    // Now anyone's: this workbench takes it at once.
    expect((await workbench.services.tasks.wait(run.taskId, { pollMs: 10 })).state).toBe('failed');
    const refused = await call('tasks.place', { taskId: run.taskId, placement: 'workers' }).catch((e: unknown) => e as ApiError);
    expect((refused as ApiError).code).toBe('conflict');
    expect((refused as ApiError).message).toMatch(/failed; only a queued task/);
  });

  it('refuses a placement it does not know, naming the field', async () => {
    const error = await call('training.start', { config: config(), placement: 'cluster' as never }).catch((e: unknown) => e as ApiError);
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).code).toBe('invalid_request');
    expect((error as ApiError).issues.map((issue) => issue.path)).toContain('placement');
  });

  it('says which store is in use, refuses to save a store setting outside the desktop app, and lists the processes seen', async () => {
    expect(await call('store.info', {})).toEqual({
      kind: 'sqlite',
      description: 'SQLite (in the data directory)',
      shared: false,
      source: 'flag',
      self: { host: hostname(), pid: process.pid, worker: 'workbench' },
      settings: null,
    });
    const refused = await call('store.configure', { store: 'sqlite' }).catch((e: unknown) => e as ApiError);
    expect((refused as ApiError).code).toBe('forbidden');
    expect((refused as ApiError).message).toMatch(/--store URL or CAPTIONER_STORE/);
    expect(await call('store.workers', {})).toEqual([]);
    const run = await call('training.start', { config: config() });
    await workbench.services.tasks.wait(run.taskId, { pollMs: 10 });
    const seen = await call('store.workers', {});
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({ pid: process.pid, names: ['workbench'], thisWorkbench: true, running: [], tasks: 1 });
  });
});
