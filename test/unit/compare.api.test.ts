/** `compare.*` through the validated API of a real workbench over a real SQLite store. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { dispatch } from '../../src/main/api/handlers';
import type { MethodName, RequestOf, ResponseOf } from '../../src/shared/contract';
import { ApiError } from '../../src/shared/errors';
import type { EvaluationItem } from '../../src/shared/storeTypes';
import { createWorkbench, type Workbench } from '../../src/main/workbench';
import { fakeSpawner } from '../helpers/fakeEngine';
import { tempDataDir } from '../helpers/storeFixtures';

let data: ReturnType<typeof tempDataDir>;
let workbench: Workbench;

beforeEach(() => {
  data = tempDataDir('compare-api-');
  workbench = createWorkbench({
    dataDir: data.dir,
    echoLogs: false,
    spawnEngine: fakeSpawner((call, reply) => reply({ type: 'error', id: call.id, error: { code: 'internal', message: 'unused' } })),
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

/** Three runs: two seeds of 128 units, one of 256; losses falling by epoch, the 256 run best. */
async function seedRuns() {
  const { store } = workbench.services;
  const configs = [
    { name: 'a', seed: 1, decoder: { units: 128 }, augment: ['flip'] },
    { name: 'b', seed: 2, decoder: { units: 128 }, augment: ['flip'] },
    { name: 'c', seed: 1, decoder: { units: 256 }, augment: ['flip'] },
  ];
  const runs = [];
  for (const config of configs) runs.push(await store.runs.create({ name: config.name, config, status: 'running' }));
  const start = Date.parse(runs[0]!.startedAt!);
  const points = [];
  for (const [index, run] of runs.entries()) {
    for (let step = 0; step < 30; step++) {
      const epoch = Math.floor(step / 10);
      points.push({ runId: run.id, key: 'train/loss', step, epoch, value: 10 - step * 0.1 - index, time: start + step * 1000 });
    }
    for (let epoch = 0; epoch < 3; epoch++) {
      // The best validation loss is at epoch 1 for every run; the last is worse.
      points.push({ runId: run.id, key: 'val/loss', step: epoch * 10 + 9, epoch, value: [5, 3, 4][epoch]! - index, time: start + (epoch * 10 + 9) * 1000 });
    }
  }
  await store.metrics.append(points);
  await store.runs.setStatus(runs[0]!.id, 'completed');
  return runs;
}

describe('compare.table', () => {
  it('puts every config value, best (with epoch) and last of every metric, duration and status side by side', async () => {
    const runs = await seedRuns();
    const table = await call('compare.table', { runIds: runs.map((run) => run.id) });
    expect(table.runs.map((run) => [run.name, run.status])).toEqual([
      ['a', 'completed'],
      ['b', 'running'],
      ['c', 'running'],
    ]);
    expect(table.runs[0]!.durationMs).toBeGreaterThanOrEqual(0);
    expect(table.config.map((row) => [row.path, row.differs])).toEqual([
      ['augment.0', false],
      ['decoder.units', true],
      ['name', true],
      ['seed', true],
    ]);
    expect(table.config.find((row) => row.path === 'decoder.units')!.values).toEqual([128, 128, 256]);
    const val = table.metrics.find((row) => row.key === 'val/loss')!;
    expect(val.goal).toBe('min');
    expect(val.cells.map((cell) => [cell.best?.value, cell.best?.epoch, cell.last?.value, cell.count])).toEqual([
      [3, 1, 4, 3],
      [2, 1, 3, 3],
      [1, 1, 2, 3],
    ]);
    expect(table.metrics.map((row) => row.key)).toEqual(['train/loss', 'val/loss']);
  });

  it('takes up to fifty runs, refuses more, and names a missing run', async () => {
    const { store } = workbench.services;
    const ids = [];
    for (let index = 0; index < 50; index++) ids.push((await store.runs.create({ config: { seed: index } })).id);
    const table = await call('compare.table', { runIds: ids });
    expect(table.runs).toHaveLength(50);
    expect(table.config[0]!.values).toHaveLength(50);
    expect(table.runs[0]!.durationMs).toBeNull();
    await expect(call('compare.table', { runIds: [...ids, ids[0]!] })).rejects.toMatchObject({ code: 'invalid_request' });
    await expect(call('compare.table', { runIds: [ids[0]!, 9999] })).rejects.toMatchObject({ code: 'not_found', message: 'Run 9999 does not exist.' });
  });
});

describe('compare.curves', () => {
  it('gives each run its curve by step, by epoch and by seconds since it started', async () => {
    const runs = await seedRuns();
    const runIds = runs.map((run) => run.id);
    const byStep = await call('compare.curves', { runIds, keys: ['train/loss'], axis: 'step', maxPoints: 1000 });
    expect(byStep.metrics[0]!.runs[1]).toMatchObject({ runId: runIds[1], reduced: false });
    expect(byStep.metrics[0]!.runs[1]!.x).toHaveLength(30);
    expect(byStep.metrics[0]!.runs[1]!.y[0]).toBe(9);

    const byEpoch = await call('compare.curves', { runIds, keys: ['val/loss'], axis: 'epoch' });
    expect(byEpoch.metrics[0]!.runs.map((curve) => curve.y)).toEqual([
      [5, 3, 4],
      [4, 2, 3],
      [3, 1, 2],
    ]);
    expect(byEpoch.metrics[0]!.runs[0]!.x).toEqual([0, 1, 2]);

    const byTime = await call('compare.curves', { runIds, keys: ['train/loss'], axis: 'time' });
    expect(byTime.metrics[0]!.runs[0]!.x.slice(0, 3)).toEqual([0, 1, 2]);

    const reduced = await call('compare.curves', { runIds, keys: ['train/loss'], axis: 'step', maxPoints: 10 });
    expect(reduced.metrics[0]!.runs[0]).toMatchObject({ reduced: true });
    expect(reduced.metrics[0]!.runs[0]!.x).toHaveLength(10);
  });

  it('groups seeds into one band of mean, min and max', async () => {
    const runs = await seedRuns();
    const curves = await call('compare.curves', {
      runIds: runs.map((run) => run.id),
      axis: 'epoch',
      group: { by: 'replicates', ignore: ['seed', 'name'] },
    });
    expect(curves.groups).toEqual([
      { label: 'decoder.units = 128', runIds: [runs[0]!.id, runs[1]!.id] },
      { label: 'decoder.units = 256', runIds: [runs[2]!.id] },
    ]);
    const val = curves.metrics.find((metric) => metric.key === 'val/loss')!;
    expect(val.bands[0]).toMatchObject({ x: [0, 1, 2], mean: [4.5, 2.5, 3.5], min: [4, 2, 3], max: [5, 3, 4], n: [2, 2, 2] });
    expect(val.bands[1]).toMatchObject({ mean: [3, 1, 2], n: [1, 1, 1] });

    const byTime = await call('compare.curves', { runIds: runs.map((run) => run.id), keys: ['train/loss'], axis: 'time', maxPoints: 10, group: { by: 'value', path: 'decoder.units' } });
    const band = byTime.metrics[0]!.bands[0]!;
    expect(band.label).toBe('decoder.units = 128');
    expect(band.x).toHaveLength(10);
    // Seconds 0-2.9 hold steps 0,1,2 of both runs: run a means 9.9, run b 8.9.
    expect(band.min[0]).toBeCloseTo(8.9, 10);
    expect(band.max[0]).toBeCloseTo(9.9, 10);
  });

  it('refuses an unknown grouping', async () => {
    const runs = await seedRuns();
    await expect(call('compare.curves', { runIds: [runs[0]!.id], group: { by: 'replicates', ignore: [] } })).rejects.toMatchObject({ code: 'invalid_request' });
  });
});

describe('compare.captions', () => {
  const item = (imageId: string, caption: string, ciderD: number): EvaluationItem => ({
    imageId,
    imagePath: `/images/${imageId}.png`,
    caption,
    references: [`reference for ${imageId}`],
    scores: { ciderD, bleu4: ciderD / 2 },
  });

  async function seedEvaluations() {
    const { store } = workbench.services;
    const a = await store.runs.create({ name: 'small', config: {} });
    const b = await store.runs.create({ name: 'large', config: {} });
    const dir = await store.runs.directory(b.id);
    const checkpoint = await store.checkpoints.add({ runId: b.id, epoch: 4, step: 40, path: `${dir}/epoch-4` });
    const base = { split: 'test', decoding: { strategy: 'beam' }, metricDefinitions: {}, aggregate: { ciderD: 1 } };
    const first = await store.evaluations.create({
      ...base,
      runId: a.id,
      items: [item('img1', 'a red circle', 0.5), item('img2', 'a blue square on the left', 0.2), item('img3', 'two triangles', 1), item('only-a', 'x', 0)],
    });
    const second = await store.evaluations.create({
      ...base,
      runId: b.id,
      checkpointId: checkpoint.id,
      items: [item('img1', 'a red circle', 0.7), item('img2', 'a green circle at the top', 0.9), item('img3', 'two small triangles', 0.1)],
    });
    const other = await store.evaluations.create({ ...base, split: 'val', runId: b.id, items: [item('img1', 'a', 0)] });
    return { a, b, first, second, other };
  }

  it('shows each run’s caption and scores per shared image, marks differing words, sorts by disagreement', async () => {
    const { first, second } = await seedEvaluations();
    const comparison = await call('compare.captions', { evaluationIds: [first.id, second.id] });
    expect(comparison.evaluations.map((evaluation) => [evaluation.runName, evaluation.checkpointEpoch])).toEqual([
      ['small', null],
      ['large', 4],
    ]);
    expect(comparison.total).toBe(3);
    expect(comparison.identical).toBe(1);
    expect(comparison.rows.map((row) => row.imageId)).toEqual(['img2', 'img3', 'img1']);
    const [top] = comparison.rows;
    expect(top!.imagePath).toBe('/images/img2.png');
    expect(top!.captions.map((caption) => caption.evaluationId)).toEqual([first.id, second.id]);
    expect(top!.captions[1]!.words.filter((word) => word.differs).map((word) => word.text)).toEqual(['green', 'circle', 'at', 'top']);
    expect(top!.captions[1]!.scores.ciderD).toBe(0.9);
    expect(top!.spread).toBeCloseTo(0.7, 10);
    expect(comparison.rows[2]!.disagreement).toBe(0);

    const bySpread = await call('compare.captions', { evaluationIds: [first.id, second.id], sort: 'spread' });
    expect(bySpread.rows.map((row) => row.imageId)).toEqual(['img3', 'img2', 'img1']);
    const byBleu = await call('compare.captions', { evaluationIds: [first.id, second.id], sort: 'spread', metric: 'bleu4', limit: 1, offset: 1 });
    expect(byBleu.rows.map((row) => row.imageId)).toEqual(['img2']);
    // The spread follows the metric asked for, also when the aligned rows are reused.
    expect(byBleu.rows[0]!.spread).toBeCloseTo(0.35, 10);
    expect(byBleu.total).toBe(3);
  });

  it('refuses evaluations on different splits, repeated ones and missing ones, naming them', async () => {
    const { first, other } = await seedEvaluations();
    await expect(call('compare.captions', { evaluationIds: [first.id, other.id] })).rejects.toMatchObject({
      code: 'invalid_request',
      message: expect.stringMatching(/same split .*test.*val/),
    });
    await expect(call('compare.captions', { evaluationIds: [first.id, first.id] })).rejects.toMatchObject({ code: 'invalid_request' });
    await expect(call('compare.captions', { evaluationIds: [first.id, 777] })).rejects.toMatchObject({ code: 'not_found', message: 'No evaluation with id 777.' });
    await expect(call('compare.captions', { evaluationIds: [first.id] })).rejects.toMatchObject({ code: 'invalid_request' });
  });
});
