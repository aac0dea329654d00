/** `datasets.*` through the validated API of a real workbench (the engine's Shapes renderer runs in-process). */
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { dispatch } from '../../src/main/api/handlers';
import { datasetProcessHandlers } from '../../src/main/engine/handlers/datasetProcess';
import { createWorkbench, type Workbench } from '../../src/main/workbench';
import type { MethodName, RequestOf, ResponseOf } from '../../src/shared/contract';
import type { SynthResult } from '../../src/shared/datasetsTypes';
import { ApiError } from '../../src/shared/errors';
import type { TaskProgress, TaskRecord } from '../../src/shared/taskTypes';
import { fakeSpawner } from '../helpers/fakeEngine';
import { inProcessSpawner } from '../helpers/inProcessEngine';
import { tempDir, writeFlickr8kCsv } from '../helpers/datasetFixtures';

/** The engine is never needed here; the dataset process's real handlers run in this process. */
const engine = () => fakeSpawner((call, reply) => reply({ type: 'error', id: call.id, error: { code: 'internal', message: `unexpected ${call.method}` } }));

let temp: ReturnType<typeof tempDir>;
let workbench: Workbench;
const open = () => createWorkbench({ dataDir: join(temp.dir, 'data'), echoLogs: false, spawnEngine: engine(), spawnDatasets: inProcessSpawner(datasetProcessHandlers) });

beforeEach(() => {
  temp = tempDir('datasets-api-');
  workbench = open();
});
afterEach(async () => {
  await workbench.close();
  temp.cleanup();
});

async function call<M extends MethodName>(method: M, request: RequestOf<M>, target = workbench): Promise<ResponseOf<M>> {
  const envelope = await dispatch(target.handlers, method, request, { transport: 'websocket' });
  if (!envelope.ok) throw ApiError.fromData(envelope.error);
  return envelope.value as ResponseOf<M>;
}

/** The task's end and every progress report it streamed. */
function finished(taskId: number): Promise<{ finished: TaskRecord; progress: TaskProgress[] }> {
  const progress: TaskProgress[] = [];
  const detach = workbench.services.bus.attach((event, payload) => {
    if (event === 'task.progress' && (payload as { taskId: number }).taskId === taskId) progress.push((payload as { progress: TaskProgress }).progress);
  });
  return workbench.services.tasks.wait(taskId, { pollMs: 20 }).then((task) => {
    detach();
    return { finished: task, progress };
  });
}

describe('datasets API', () => {
  it('imports, lists, browses, details and removes a dataset; opens its images to the UI', async () => {
    const root = join(temp.dir, 'flickr');
    await writeFlickr8kCsv(root);
    const summary = await call('datasets.import', { path: root });
    expect(summary).toMatchObject({ name: 'flickr', format: 'flickr8k-csv', kind: 'captions', images: 3, captions: 5, splits: null, problems: 0, imageRoot: join(root, 'Images') });
    expect(workbench.services.mediaRoots.resolve(join(root, 'Images', 'dog.jpg'))).not.toBeNull();
    expect((await call('datasets.list', {})).map((d) => d.id)).toEqual([summary.id]);

    const page = await call('datasets.browse', { datasetId: summary.id, limit: 2 });
    expect(page).toMatchObject({ total: 3, offset: 0, limit: 2 });
    expect(page.items.map((i) => i.imageId)).toEqual(['dog.jpg', 'cat.jpg']);
    const search = await call('datasets.browse', { datasetId: summary.id, search: 'Running,' });
    expect(search.items.map((i) => i.imageId)).toEqual(['dog.jpg']);
    const prefix = await call('datasets.browse', { datasetId: summary.id, search: 'a so' });
    expect(prefix.items.map((i) => i.imageId)).toEqual(['cat.jpg']);
    expect((await call('datasets.browse', { datasetId: summary.id, split: 'train' })).total).toBe(0);

    const detail = await call('datasets.image', { datasetId: summary.id, imageId: 'cat.jpg' });
    expect(detail).toMatchObject({ width: 40, height: 30, format: 'jpeg', scene: null, error: null, path: join(root, 'Images', 'cat.jpg') });
    expect(detail.tokens[1]).toEqual(['the', 'cat', "'s", 'eyes', 'are', 'closed']);
    await expect(call('datasets.image', { datasetId: summary.id, imageId: 'nope.jpg' })).rejects.toMatchObject({ code: 'not_found' });

    const stats = await call('datasets.stats', { datasetId: summary.id, minCount: 2 });
    expect(stats).toMatchObject({ images: 3, captions: 5, splitSource: 'none', shapes: false });
    expect(stats.vocabulary.size).toBe(4 + stats.topWords.filter((w) => w.count >= 2).length);

    expect(await call('datasets.remove', { datasetId: summary.id })).toEqual({ removed: true });
    expect(await call('datasets.list', {})).toEqual([]);
    await expect(call('datasets.browse', { datasetId: summary.id })).rejects.toMatchObject({ code: 'not_found' });
  });

  it('re-opens image folders of registered datasets in a new workbench', async () => {
    const root = join(temp.dir, 'flickr');
    await writeFlickr8kCsv(root);
    await call('datasets.import', { path: root });
    const second = open();
    try {
      await second.services.datasets.restoreMediaRoots();
      expect(second.services.mediaRoots.resolve(join(root, 'Images', 'dog.jpg'))).not.toBeNull();
    } finally {
      await second.close();
    }
  });

  it('answers malformed data and bad requests with clear errors', async () => {
    const root = join(temp.dir, 'bad');
    await writeFlickr8kCsv(root);
    const { writeFileSync } = await import('node:fs');
    writeFileSync(join(root, 'captions.txt'), 'image,caption\ndog.jpg\n');
    await expect(call('datasets.import', { path: root })).rejects.toMatchObject({ code: 'invalid_request', message: expect.stringMatching(/captions\.txt:2: expected "image,caption"/) });
    await expect(call('datasets.stats', { datasetId: 1, path: root })).rejects.toMatchObject({ code: 'invalid_request' });
    await expect(call('datasets.stats', {})).rejects.toMatchObject({ code: 'invalid_request' });
    await expect(call('datasets.import', { path: root, format: 'pascal' as never })).rejects.toMatchObject({ code: 'invalid_request' });
  });

  it('reports stats for a path without importing it', async () => {
    const root = join(temp.dir, 'flickr');
    await writeFlickr8kCsv(root);
    const stats = await call('datasets.stats', { path: root, topWords: 3 });
    expect(stats.format).toBe('flickr8k-csv');
    expect(stats.topWords).toHaveLength(3);
    expect(await call('datasets.list', {})).toEqual([]);
  });

  it('creates the Shapes benchmark once, registers it, and scores captions against it', async () => {
    const started = await call('datasets.createShapes', { images: 20, seed: 4 });
    expect(started.taskId).not.toBeNull();
    expect(started.path).toBe(join(temp.dir, 'data', 'datasets', 'shapes-s4-n20'));
    const { finished: done, progress } = await finished(started.taskId as number);
    expect(done).toMatchObject({ state: 'completed', kind: 'synthesis' });
    expect(progress.at(-1)).toMatchObject({ done: 20, total: 20, unit: 'images' });
    const result = done.result as unknown as SynthResult;
    expect(result.dataset).toMatchObject({ name: 'Shapes', kind: 'shapes', format: 'karpathy', images: 20 });

    const again = await call('datasets.createShapes', { images: 20, seed: 4 });
    expect(again).toEqual({ taskId: null, path: started.path, dataset: result.dataset });

    const datasetId = result.dataset?.id as number;
    const [first] = (await call('datasets.browse', { datasetId, limit: 1 })).items;
    const detail = await call('datasets.image', { datasetId, imageId: first?.imageId as string });
    expect(detail.scene?.objects.length).toBeGreaterThan(0);
    expect(detail.width).toBe(128);

    const score = await call('datasets.groundedScore', { scenes: started.path, captions: { [first?.imageId as string]: first?.captions[0] as string, 'other.png': 'a red circle' } });
    expect(score.images).toBe(1);
    expect(score.unknownImages).toEqual(['other.png']);
    expect(score.overall.precision).toBe(1);
  });

  it('runs synth as a task that can be stopped', async () => {
    const { taskId } = await call('datasets.synth', { out: join(temp.dir, 'shapes'), images: 60, imageSize: 32 });
    const done = finished(taskId);
    expect(await call('tasks.stop', { taskId })).toEqual({ stopping: true });
    expect((await done).finished.state).toBe('cancelled');
    expect((await call('tasks.list', {})).map((task) => [task.id, task.kind, task.state])).toEqual([[taskId, 'synthesis', 'cancelled']]);
  });
});
