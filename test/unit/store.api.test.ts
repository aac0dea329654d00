/** `runs.*` through the validated API of a real workbench, and the run events it emits. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { dispatch } from '../../src/main/api/handlers';
import type { EventName } from '../../src/shared/contract';
import type { MethodName, RequestOf, ResponseOf } from '../../src/shared/contract';
import { ApiError } from '../../src/shared/errors';
import { createWorkbench, type Workbench } from '../../src/main/workbench';
import { fakeSpawner } from '../helpers/fakeEngine';
import { tempDataDir } from '../helpers/storeFixtures';

let data: ReturnType<typeof tempDataDir>;
let workbench: Workbench;
let events: Array<{ event: EventName; payload: unknown }>;

beforeEach(() => {
  data = tempDataDir('runs-api-');
  workbench = createWorkbench({
    dataDir: data.dir,
    echoLogs: false,
    spawnEngine: fakeSpawner((call, reply) => reply({ type: 'error', id: call.id, error: { code: 'internal', message: 'unused' } })),
  });
  events = [];
  workbench.services.bus.attach((event, payload) => events.push({ event, payload }));
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

describe('runs API', () => {
  it('serves a live run: buffered metrics are flushed before reads, and events carry them', async () => {
    const { store } = workbench.services;
    const run = await store.runs.create({ name: 'live', config: { lr: 0.01 }, status: 'running' });
    for (let step = 0; step < 5000; step++) {
      store.metricWriter.write({ runId: run.id, key: 'train/loss', step, epoch: Math.floor(step / 1000), value: 5 / (1 + step) });
    }
    const [series] = await call('runs.metrics', { runId: run.id, maxPoints: 200 });
    expect(series).toMatchObject({ key: 'train/loss', totalPoints: 5000, downsampled: true });
    expect(series?.points).toHaveLength(200);
    const metricEvents = events.filter((entry) => entry.event === 'run.metrics');
    expect(metricEvents.reduce((sum, entry) => sum + (entry.payload as { points: unknown[] }).points.length, 0)).toBe(5000);
    expect(events.some((entry) => entry.event === 'run.updated' && (entry.payload as { id: number }).id === run.id)).toBe(true);
    // Its training task's changes reach the UI too: one event per commit (created and claimed at once).
    const taskStates = events
      .filter((entry) => entry.event === 'task.updated' && (entry.payload as { id: number }).id === run.taskId)
      .map((entry) => (entry.payload as { state: string }).state);
    expect(taskStates).toEqual(['running']);

    const list = await call('runs.list', { metrics: [{ key: 'train/loss' }] });
    expect(list.total).toBe(1);
    expect(list.runs[0]?.metrics[0]).toMatchObject({ key: 'train/loss', goal: 'min', count: 5000, last: { step: 4999 } });
  });

  it('renames, tags, compares and deletes', async () => {
    const { store } = workbench.services;
    const a = await store.runs.create({ config: { units: 256 } });
    const b = await store.runs.create({ config: { units: 512 } });
    await store.metrics.append([
      { runId: a.id, key: 'val/loss', step: 1, epoch: 0, value: 3 },
      { runId: b.id, key: 'val/loss', step: 1, epoch: 0, value: 2 },
    ]);
    const renamed = await call('runs.update', { runId: a.id, name: 'baseline', tags: ['keep'], notes: 'n' });
    expect(renamed).toMatchObject({ name: 'baseline', tags: ['keep'], notes: 'n' });
    expect(await call('runs.tags', {})).toEqual(['keep']);

    const comparison = await call('runs.compare', { runIds: [a.id, b.id] });
    expect(comparison.series[0]).toMatchObject({ key: 'val/loss', axis: 'epoch', x: [0], values: [[3], [2]] });
    expect(comparison.configDiff).toEqual([{ path: 'units', values: [256, 512], missingIn: [] }]);

    await expect(call('runs.delete', { runId: a.id })).rejects.toMatchObject({ code: 'conflict' });
    expect(await call('runs.delete', { runId: a.id, force: true })).toEqual({ runId: a.id, filesRemoved: 0 });
    expect(events).toContainEqual({ event: 'run.deleted', payload: { runId: a.id } });
    await expect(call('runs.get', { runId: a.id })).rejects.toMatchObject({ code: 'not_found', message: `Run ${a.id} does not exist.` });
  });

  it('validates requests against the contract before the store sees them', async () => {
    const invalid = await dispatch(workbench.handlers, 'runs.list', { limit: 0 }, { transport: 'ipc' });
    expect(invalid.ok).toBe(false);
    if (!invalid.ok) expect(invalid.error.issues?.[0]?.path).toBe('limit');
    const extra = await dispatch(workbench.handlers, 'runs.get', { runId: 1, id: 1 }, { transport: 'ipc' });
    expect(extra.ok).toBe(false);
    const run = await workbench.services.store.runs.create({ config: {} });
    await expect(call('runs.metrics', { runId: run.id, fromStep: 10, toStep: 5 })).rejects.toMatchObject({ code: 'invalid_request' });
  });

  it('answers what a run page needs: detail, checkpoints, samples, evaluations, resume point, export', async () => {
    const { store } = workbench.services;
    const run = await store.runs.create({ config: { epochs: 2 }, status: 'running' });
    const dir = await store.runs.directory(run.id);
    await store.checkpoints.add({ runId: run.id, epoch: 0, step: 9, path: `${dir}/e0` });
    await store.samples.add(run.id, 0, 9, [{ imageId: 'i', caption: 'a dog' }]);
    await store.evaluations.create({ runId: run.id, split: 'test', decoding: { strategy: 'greedy' }, metricDefinitions: {}, aggregate: { ciderD: 0.3 }, items: [] });
    await store.runs.setStatus(run.id, 'stopped');

    const detail = await call('runs.get', { runId: run.id });
    expect(detail).toMatchObject({ status: 'stopped', checkpointCount: 1, sampleEpochs: [0], lastCheckpoint: { epoch: 0, step: 9 } });
    expect(await call('runs.checkpoints', { runId: run.id })).toHaveLength(1);
    expect((await call('runs.samples', { runId: run.id, epoch: 0 }))[0]?.caption).toBe('a dog');
    expect((await call('runs.evaluations', { runId: run.id }))[0]?.aggregate).toEqual({ ciderD: 0.3 });
    expect(await call('runs.resumePoint', { runId: run.id })).toMatchObject({ epoch: 0, checkpointPath: `${dir}/e0` });
    expect(await call('runs.artifacts', { runId: run.id })).toEqual([]);
    const exported = await call('runs.export', { runId: run.id });
    expect(exported.run.id).toBe(run.id);
    expect(exported.evaluations).toHaveLength(1);
  });
});
