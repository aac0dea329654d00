/**
 * The experiment store's shared test suite: the rules written in
 * src/main/store/storage.ts, checked against any implementation. SQLite runs
 * it in test/unit/store.contract.test.ts; a server database adds one line of
 * its own with a factory that opens a fresh, empty store.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ApiError } from '../../src/shared/errors';
import { FACADE_WORKER, type ExperimentStore, type NewTask, type StoreHooks } from '../../src/main/store/storage';
import type { TaskOwner, TaskRecord } from '../../src/shared/taskTypes';
import { compareRuns, exportRun, listRunsWithMetrics } from '../../src/main/store/queries';

export interface StoreFixture {
  store: ExperimentStore;
  /** The store's data directory (files of runs live under it). */
  dataDir: string;
  /**
   * A second, separate connection to the same database (as another process
   * or machine would open it), on the same clock and without hooks. The
   * fixture closes it in `dispose`.
   */
  openAnother(): Promise<ExperimentStore>;
  /** Closes the store (and any other connection) and removes what the fixture created. */
  dispose(): Promise<void>;
}

export interface StoreFactoryOptions {
  /** The store must take its time from this clock (milliseconds since 1970). */
  clock: () => number;
  /** Rows are flushed by the metric writer after this many points. */
  writerMaxRows?: number;
  /** Hooks the store must call after each commit. */
  hooks?: StoreHooks;
}

export type StoreFactory = (options: StoreFactoryOptions) => Promise<StoreFixture>;

/** Expects `promise` to reject with an `ApiError` of `code` whose message contains `text`. */
export async function expectApiError(promise: Promise<unknown>, code: ApiError['code'], text?: string | RegExp): Promise<ApiError> {
  const error = await promise.then(
    () => null,
    (reason: unknown) => reason,
  );
  expect(error, `expected an ApiError ${code}`).toBeInstanceOf(ApiError);
  const apiError = error as ApiError;
  expect(apiError.code).toBe(code);
  if (text !== undefined) expect(apiError.message).toMatch(text);
  return apiError;
}

const START = Date.UTC(2025, 0, 1, 12, 0, 0);

export function describeStoreContract(name: string, factory: StoreFactory): void {
  describe(`experiment store contract: ${name}`, () => {
    let fixture: StoreFixture;
    let store: ExperimentStore;
    let now = START;
    const advance = (ms: number) => {
      now += ms;
    };

    beforeEach(async () => {
      now = START;
      fixture = await factory({ clock: () => now, writerMaxRows: 50 });
      store = fixture.store;
    });

    afterEach(async () => {
      await fixture.dispose();
    });

    const newRun = (overrides: Parameters<ExperimentStore['runs']['create']>[0] | object = {}) =>
      store.runs.create({ config: { lr: 0.001 }, ...overrides });

    // ─── runs ────────────────────────────────────────────────────────────────

    describe('runs', () => {
      it('creates a queued run with a default name, trimmed unique tags and the store clock', async () => {
        const run = await newRun({ tags: ['shapes', ' shapes ', '', 'baseline'], notes: 'first try' });
        expect(run.status).toBe('queued');
        expect(run.name).toBe(`run-${run.id}`);
        expect(run.tags).toEqual(['shapes', 'baseline']);
        expect(run.notes).toBe('first try');
        expect(run.createdAt).toBe(new Date(START).toISOString());
        expect(run.startedAt).toBeNull();
        expect(run.lastCheckpoint).toBeNull();
        expect(await store.runs.get(run.id)).toEqual(run);
      });

      it('starts a run created as running, with start time and heartbeat', async () => {
        const run = await newRun({ status: 'running', name: 'lstm-256', backend: 'cpu', machine: 'box' });
        expect(run).toMatchObject({ status: 'running', name: 'lstm-256', backend: 'cpu', machine: 'box' });
        expect(run.startedAt).toBe(new Date(START).toISOString());
        expect(run.heartbeatAt).toBe(run.startedAt);
      });

      it('answers null for a missing run and not_found for changes to it', async () => {
        expect(await store.runs.get(987)).toBeNull();
        await expectApiError(store.runs.update(987, { name: 'x' }), 'not_found', /987/);
        await expectApiError(store.runs.setStatus(987, 'running'), 'not_found', /987/);
        await expectApiError(store.runs.delete(987), 'not_found', /987/);
      });

      it('refuses a config that is not an object, naming the field', async () => {
        const error = await expectApiError(store.runs.create({ config: [1, 2] as never }), 'invalid_request', /config/);
        expect(error.issues[0]?.path).toBe('config');
        expect((await store.runs.list()).total).toBe(0);
      });

      it('updates name, notes and tags only', async () => {
        const run = await newRun();
        const updated = await store.runs.update(run.id, { name: ' better name ', notes: 'n', tags: ['b', 'a', 'b'] });
        expect(updated).toMatchObject({ name: 'better name', notes: 'n', tags: ['b', 'a'], status: 'queued' });
        expect(await store.runs.tags()).toEqual(['a', 'b']);
        await expectApiError(store.runs.update(run.id, { name: '  ' }), 'invalid_request', /name/);
      });

      it('lists newest first with filters and a total before paging', async () => {
        const a = await newRun({ name: 'alpha', tags: ['x'] });
        advance(1000);
        const b = await newRun({ name: 'beta', notes: 'uses ALPHA data', status: 'running' });
        advance(1000);
        const c = await newRun({ name: 'gamma', tags: ['x'] });
        expect((await store.runs.list()).runs.map((run) => run.id)).toEqual([c.id, b.id, a.id]);
        expect((await store.runs.list({ tag: 'x' })).runs.map((run) => run.id)).toEqual([c.id, a.id]);
        expect((await store.runs.list({ status: ['running'] })).runs.map((run) => run.id)).toEqual([b.id]);
        expect((await store.runs.list({ search: 'alpha' })).runs.map((run) => run.id)).toEqual([b.id, a.id]);
        expect((await store.runs.list({ search: '%' })).total).toBe(0);
        const page = await store.runs.list({ limit: 1, offset: 1 });
        expect(page.total).toBe(3);
        expect(page.runs.map((run) => run.id)).toEqual([b.id]);
      });

      it('moves through its life and refuses impossible status changes', async () => {
        const run = await newRun();
        advance(10);
        const running = await store.runs.setStatus(run.id, 'running', { backend: 'tensorflow' });
        expect(running.startedAt).toBe(new Date(START + 10).toISOString());
        expect(running.backend).toBe('tensorflow');
        advance(10);
        const done = await store.runs.setStatus(run.id, 'completed');
        expect(done.finishedAt).toBe(new Date(START + 20).toISOString());
        await expectApiError(store.runs.setStatus(run.id, 'failed'), 'conflict', /completed.*failed/);
        await expectApiError(store.runs.setStatus(run.id, 'queued'), 'conflict');
        expect((await store.runs.get(run.id))?.status).toBe('completed');
      });

      it('resumes a failed run: running again, error and finish time cleared, start time kept', async () => {
        const run = await newRun({ status: 'running' });
        advance(50);
        const failed = await store.runs.setStatus(run.id, 'failed', { error: 'loss became NaN at step 12' });
        expect(failed.error).toBe('loss became NaN at step 12');
        expect(failed.finishedAt).not.toBeNull();
        advance(50);
        const resumed = await store.runs.setStatus(run.id, 'running');
        expect(resumed).toMatchObject({ status: 'running', error: null, finishedAt: null, startedAt: run.startedAt });
        expect(resumed.heartbeatAt).toBe(new Date(START + 100).toISOString());
      });

      it('keeps heartbeats', async () => {
        const run = await newRun({ status: 'running' });
        advance(5000);
        await store.runs.heartbeat(run.id);
        expect((await store.runs.get(run.id))?.heartbeatAt).toBe(new Date(START + 5000).toISOString());
        await expectApiError(store.runs.heartbeat(4242), 'not_found');
      });

      it('gives each run a folder under the data directory', async () => {
        const run = await newRun();
        const dir = await store.runs.directory(run.id);
        expect(dir).toBe(join(fixture.dataDir, 'runs', String(run.id)));
        expect(existsSync(dir)).toBe(true);
      });
    });

    // ─── deleting ────────────────────────────────────────────────────────────

    describe('deleting a run', () => {
      it('refuses a running run without force', async () => {
        const run = await newRun({ status: 'running' });
        await expectApiError(store.runs.delete(run.id), 'conflict', /running/);
        expect(await store.runs.get(run.id)).not.toBeNull();
        expect((await store.runs.delete(run.id, { force: true })).runId).toBe(run.id);
      });

      it('removes its rows and files, and leaves other runs alone', async () => {
        const run = await newRun({ status: 'running' });
        const other = await newRun({ status: 'running' });
        const dir = await store.runs.directory(run.id);
        const checkpoint = join(dir, 'epoch-1');
        mkdirSync(checkpoint);
        writeFileSync(join(checkpoint, 'weights.bin'), Buffer.alloc(100));
        writeFileSync(join(checkpoint, 'model.json'), '{}');
        // Registered files may also live elsewhere under the data directory.
        mkdirSync(join(fixture.dataDir, 'packages'), { recursive: true });
        const packagePath = join(fixture.dataDir, 'packages', `run-${run.id}.zip`);
        writeFileSync(packagePath, 'zip');
        const keep = join(await store.runs.directory(other.id), 'keep.txt');
        writeFileSync(keep, 'keep');

        await store.checkpoints.add({ runId: run.id, epoch: 1, step: 10, path: checkpoint });
        await store.artifacts.add({ runId: run.id, kind: 'model-package', path: packagePath });
        await store.metrics.append([{ runId: run.id, key: 'loss', step: 1, epoch: 0, value: 1 }]);
        await store.samples.add(run.id, 0, 1, [{ imageId: 'a', caption: 'a cat' }]);
        await store.evaluations.create({
          runId: run.id,
          split: 'test',
          decoding: {},
          metricDefinitions: {},
          aggregate: { bleu4: 0.1 },
          items: [{ imageId: 'a', imagePath: null, caption: 'a cat', references: ['a cat'], scores: {} }],
        });
        await store.metrics.append([{ runId: other.id, key: 'loss', step: 1, epoch: 0, value: 2 }]);
        await store.runs.setStatus(run.id, 'completed');

        const deleted = await store.runs.delete(run.id);
        expect(deleted).toEqual({ runId: run.id, filesRemoved: 3 });
        expect(existsSync(dir)).toBe(false);
        expect(existsSync(packagePath)).toBe(false);
        expect(existsSync(keep)).toBe(true);
        expect(await store.runs.get(run.id)).toBeNull();
        expect(await store.evaluations.list({ runId: run.id })).toEqual([]);
        await expectApiError(store.metrics.keys(run.id), 'not_found');
        expect(await store.metrics.keys(other.id)).toEqual(['loss']);
      });
    });

    // ─── metrics ─────────────────────────────────────────────────────────────

    describe('metrics', () => {
      it('appends, orders by step, and replaces a repeated step', async () => {
        const run = await newRun();
        await store.metrics.append([
          { runId: run.id, key: 'train/loss', step: 2, epoch: 0, value: 2, time: 5 },
          { runId: run.id, key: 'train/loss', step: 1, epoch: 0, value: 3, time: 4 },
        ]);
        await store.metrics.append([{ runId: run.id, key: 'train/loss', step: 2, epoch: 1, value: 1.5, time: 6 }]);
        const series = await store.metrics.series(run.id, 'train/loss');
        expect(series.points).toEqual([
          { step: 1, epoch: 0, value: 3, time: 4 },
          { step: 2, epoch: 1, value: 1.5, time: 6 },
        ]);
        expect(series).toMatchObject({ totalPoints: 2, downsampled: false });
      });

      it('writes a batch all or nothing', async () => {
        const run = await newRun();
        await expectApiError(
          store.metrics.append([
            { runId: run.id, key: 'loss', step: 1, epoch: 0, value: 1 },
            { runId: run.id, key: 'loss', step: 2, epoch: 0, value: Number.NaN },
          ]),
          'invalid_request',
          /value/,
        );
        await expectApiError(
          store.metrics.append([
            { runId: run.id, key: 'loss', step: 1, epoch: 0, value: 1 },
            { runId: run.id + 100, key: 'loss', step: 1, epoch: 0, value: 1 },
          ]),
          'not_found',
          new RegExp(String(run.id + 100)),
        );
        await expectApiError(store.metrics.append([{ runId: run.id, key: 'loss', step: -1, epoch: 0, value: 1 }]), 'invalid_request', /step/);
        expect(await store.metrics.keys(run.id)).toEqual([]);
      });

      it('counts an append as a heartbeat of a running run', async () => {
        const run = await newRun({ status: 'running' });
        advance(60_000);
        await store.metrics.append([{ runId: run.id, key: 'loss', step: 0, epoch: 0, value: 1 }]);
        expect((await store.runs.get(run.id))?.heartbeatAt).toBe(new Date(START + 60_000).toISOString());
      });

      it('reduces a long series to maxPoints, keeping the first and last points', async () => {
        const run = await newRun();
        const points = Array.from({ length: 500 }, (_, step) => ({ runId: run.id, key: 'loss', step, epoch: Math.floor(step / 100), value: Math.sin(step / 10) }));
        await store.metrics.append(points);
        const series = await store.metrics.series(run.id, 'loss', { maxPoints: 50 });
        expect(series.points).toHaveLength(50);
        expect(series).toMatchObject({ totalPoints: 500, downsampled: true });
        expect(series.points[0]?.step).toBe(0);
        expect(series.points.at(-1)?.step).toBe(499);
        const steps = series.points.map((point) => point.step);
        expect(steps).toEqual([...steps].sort((a, b) => a - b));
        const ranged = await store.metrics.series(run.id, 'loss', { fromStep: 100, toStep: 199 });
        expect(ranged.points.map((point) => point.step)).toEqual(Array.from({ length: 100 }, (_, index) => 100 + index));
      });

      it('summarises best (by goal, earliest on a tie) and last values', async () => {
        const a = await newRun();
        const b = await newRun();
        await store.metrics.append([
          { runId: a.id, key: 'val/loss', step: 10, epoch: 0, value: 2 },
          { runId: a.id, key: 'val/loss', step: 20, epoch: 1, value: 1 },
          { runId: a.id, key: 'val/loss', step: 30, epoch: 2, value: 1 },
          { runId: a.id, key: 'val/loss', step: 40, epoch: 3, value: 1.4 },
          { runId: a.id, key: 'val/bleu4', step: 20, epoch: 1, value: 0.2 },
          { runId: a.id, key: 'val/bleu4', step: 40, epoch: 3, value: 0.15 },
        ]);
        const summaries = await store.metrics.summaries([a.id, b.id], [{ key: 'val/loss' }, { key: 'val/bleu4' }, { key: 'val/loss', goal: 'max' }]);
        expect(summaries.get(a.id)).toEqual([
          { key: 'val/loss', goal: 'min', best: { value: 1, step: 20, epoch: 1 }, last: { value: 1.4, step: 40, epoch: 3 }, count: 4 },
          { key: 'val/bleu4', goal: 'max', best: { value: 0.2, step: 20, epoch: 1 }, last: { value: 0.15, step: 40, epoch: 3 }, count: 2 },
          { key: 'val/loss', goal: 'max', best: { value: 2, step: 10, epoch: 0 }, last: { value: 1.4, step: 40, epoch: 3 }, count: 4 },
        ]);
        expect(summaries.get(b.id)?.[0]).toEqual({ key: 'val/loss', goal: 'min', best: null, last: null, count: 0 });
        expect((await store.metrics.summaryOf(a.id)).map((summary) => summary.key)).toEqual(['val/bleu4', 'val/loss']);
      });

      it('aligns runs by epoch (last value of each epoch) and by step', async () => {
        const a = await newRun();
        const b = await newRun();
        await store.metrics.append([
          { runId: a.id, key: 'loss', step: 1, epoch: 0, value: 5 },
          { runId: a.id, key: 'loss', step: 2, epoch: 0, value: 4 },
          { runId: a.id, key: 'loss', step: 3, epoch: 1, value: 3 },
          { runId: b.id, key: 'loss', step: 2, epoch: 0, value: 6 },
          { runId: b.id, key: 'loss', step: 4, epoch: 1, value: 2 },
          { runId: b.id, key: 'loss', step: 6, epoch: 2, value: 1 },
        ]);
        const byEpoch = await store.metrics.aligned([a.id, b.id], 'loss', 'epoch', 100);
        expect(byEpoch).toEqual({ key: 'loss', axis: 'epoch', runIds: [a.id, b.id], x: [0, 1, 2], values: [[4, 3, null], [6, 2, 1]], bucketed: false });
        const byStep = await store.metrics.aligned([a.id, b.id], 'loss', 'step', 100);
        expect(byStep.x).toEqual([1, 2, 3, 4, 6]);
        expect(byStep.values).toEqual([
          [5, 4, 3, null, null],
          [null, 6, null, 2, 1],
        ]);
        const bucketed = await store.metrics.aligned([a.id, b.id], 'loss', 'step', 2);
        expect(bucketed.bucketed).toBe(true);
        expect(bucketed.x).toHaveLength(2);
        // Steps 1..6 in two buckets, [1, 3.5) and [3.5, 6]: each run's mean, null where it logged nothing.
        expect(bucketed.values).toEqual([[4, null], [6, 1.5]]);
      });

      it('commits buffered writes on flush and on close', async () => {
        const run = await newRun();
        for (let step = 0; step < 120; step++) store.metricWriter.write({ runId: run.id, key: 'loss', step, epoch: 0, value: step });
        expect(() => store.metricWriter.write({ runId: run.id, key: 'loss', step: 1, epoch: 0, value: Infinity })).toThrow(/finite/);
        await store.metricWriter.flush();
        expect((await store.metrics.series(run.id, 'loss', { maxPoints: 1000 })).totalPoints).toBe(120);
      });
    });

    // ─── checkpoints, artifacts, samples ─────────────────────────────────────

    describe('checkpoints and artifacts', () => {
      it('records checkpoints under the data directory and refuses paths outside it', async () => {
        const run = await newRun();
        const dir = await store.runs.directory(run.id);
        writeFileSync(join(dir, 'ckpt-1.bin'), Buffer.alloc(1234));
        const first = await store.checkpoints.add({ runId: run.id, epoch: 1, step: 100, path: join(dir, 'ckpt-1.bin'), metrics: { 'val/loss': 2 }, isBest: true });
        expect(first).toMatchObject({ epoch: 1, step: 100, sizeBytes: 1234, isBest: true, metrics: { 'val/loss': 2 }, path: join(dir, 'ckpt-1.bin') });
        const second = await store.checkpoints.add({ runId: run.id, epoch: 2, step: 200, path: `runs/${run.id}/ckpt-2.bin`, isBest: true });
        expect(second.path).toBe(join(dir, 'ckpt-2.bin'));
        const again = await store.checkpoints.add({ runId: run.id, epoch: 2, step: 200, path: join(dir, 'ckpt-2.bin'), metrics: { 'val/loss': 1 } });
        expect(again.id).toBe(second.id);
        expect(again.isBest).toBe(true);
        const list = await store.checkpoints.list(run.id);
        expect(list.map((checkpoint) => [checkpoint.step, checkpoint.isBest])).toEqual([[100, false], [200, true]]);
        expect((await store.checkpoints.latest(run.id))?.id).toBe(second.id);
        await expectApiError(store.checkpoints.add({ runId: run.id, epoch: 3, step: 300, path: '/etc/passwd' }), 'invalid_request', /not inside the data directory/);
        await expectApiError(store.checkpoints.add({ runId: run.id, epoch: 3, step: 300, path: '../outside' }), 'invalid_request', /data directory/);
        await expectApiError(store.checkpoints.add({ runId: run.id + 50, epoch: 3, step: 300, path: 'x' }), 'not_found');
      });

      it('gives the newest checkpoint as the resume point', async () => {
        const run = await newRun({ status: 'running', config: { epochs: 10 } });
        expect(await store.runs.resumePoint(run.id)).toBeNull();
        const dir = await store.runs.directory(run.id);
        await store.checkpoints.add({ runId: run.id, epoch: 1, step: 100, path: join(dir, 'e1') });
        await store.checkpoints.add({ runId: run.id, epoch: 2, step: 200, path: join(dir, 'e2') });
        await store.runs.setStatus(run.id, 'stopped');
        expect(await store.runs.resumePoint(run.id)).toEqual({ runId: run.id, status: 'stopped', config: { epochs: 10 }, checkpointPath: join(dir, 'e2'), epoch: 2, step: 200 });
        expect((await store.runs.get(run.id))?.lastCheckpoint).toMatchObject({ epoch: 2, step: 200, path: join(dir, 'e2') });
      });

      it('removes a checkpoint with its file unless told to keep it', async () => {
        const run = await newRun();
        const dir = await store.runs.directory(run.id);
        writeFileSync(join(dir, 'a.bin'), 'a');
        writeFileSync(join(dir, 'b.bin'), 'b');
        const a = await store.checkpoints.add({ runId: run.id, epoch: 1, step: 1, path: join(dir, 'a.bin') });
        const b = await store.checkpoints.add({ runId: run.id, epoch: 2, step: 2, path: join(dir, 'b.bin') });
        await store.checkpoints.remove(a.id);
        await store.checkpoints.remove(b.id, { keepFiles: true });
        expect(existsSync(join(dir, 'a.bin'))).toBe(false);
        expect(existsSync(join(dir, 'b.bin'))).toBe(true);
        expect(await store.checkpoints.list(run.id)).toEqual([]);
        await expectApiError(store.checkpoints.remove(a.id), 'not_found');
      });

      it('records artifacts, named after their file by default', async () => {
        const run = await newRun();
        const dir = await store.runs.directory(run.id);
        writeFileSync(join(dir, 'vocab.json'), '["a"]');
        const artifact = await store.artifacts.add({ runId: run.id, kind: 'vocabulary', path: join(dir, 'vocab.json'), meta: { size: 1 } });
        expect(artifact).toMatchObject({ kind: 'vocabulary', name: 'vocab.json', sizeBytes: 5, meta: { size: 1 } });
        expect(await store.artifacts.list(run.id)).toEqual([artifact]);
      });

      it('keeps one sample caption per run, epoch and image', async () => {
        const run = await newRun();
        await store.samples.add(run.id, 1, 100, [
          { imageId: 'img1', imagePath: '/d/1.jpg', caption: 'a dog', references: ['a dog runs'] },
          { imageId: 'img2', caption: 'a cat' },
        ]);
        await store.samples.add(run.id, 0, 50, [{ imageId: 'img1', caption: 'a a a' }]);
        await store.samples.add(run.id, 1, 100, [{ imageId: 'img1', imagePath: '/d/1.jpg', caption: 'a brown dog', references: ['a dog runs'] }]);
        const all = await store.samples.list(run.id);
        expect(all.map((sample) => [sample.epoch, sample.imageId, sample.caption])).toEqual([
          [0, 'img1', 'a a a'],
          [1, 'img1', 'a brown dog'],
          [1, 'img2', 'a cat'],
        ]);
        expect((await store.samples.list(run.id, { epoch: 1 }))[0]).toMatchObject({ references: ['a dog runs'], imagePath: '/d/1.jpg', step: 100 });
        expect(await store.samples.epochs(run.id)).toEqual([0, 1]);
      });
    });

    // ─── datasets ────────────────────────────────────────────────────────────

    describe('datasets', () => {
      it('registers once per path, updates stats, and unlinks runs when deleted', async () => {
        const path = join(fixture.dataDir, 'flickr8k');
        const first = await store.datasets.register({ name: 'Flickr8k', path, format: 'flickr8k', stats: { images: 8091 } });
        advance(1000);
        const again = await store.datasets.register({ name: 'Flickr 8k', path, format: 'flickr8k', stats: { images: 8092 } });
        expect(again.id).toBe(first.id);
        expect(again).toMatchObject({ name: 'Flickr 8k', stats: { images: 8092 }, createdAt: first.createdAt });
        expect(await store.datasets.getByPath(path)).toEqual(again);
        const updated = await store.datasets.updateStats(first.id, { images: 1, vocab: 10 });
        expect(updated.stats).toEqual({ images: 1, vocab: 10 });
        const run = await newRun({ datasetId: first.id });
        expect(run.datasetId).toBe(first.id);
        await expectApiError(newRun({ datasetId: 999 }), 'not_found', /Dataset 999/);
        await store.datasets.delete(first.id);
        expect((await store.runs.get(run.id))?.datasetId).toBeNull();
        expect(await store.datasets.list()).toEqual([]);
      });
    });

    // ─── evaluations ─────────────────────────────────────────────────────────

    describe('evaluations', () => {
      it('keeps aggregate, decoding, metric definitions and per-image scores together', async () => {
        const run = await newRun();
        const evaluation = await store.evaluations.create({
          runId: run.id,
          split: 'test',
          decoding: { strategy: 'beam', beamSize: 3, maxLength: 20 },
          metricDefinitions: { bleu: { n: 4, tokenizer: 'ptb' }, cider: { variant: 'CIDEr-D', sigma: 6 } },
          aggregate: { bleu4: 0.21, cider: 0.6 },
          items: [
            { imageId: 'b', imagePath: '/img/b.jpg', caption: 'a dog', references: ['a dog', 'the dog'], scores: { cider: 0.9 } },
            { imageId: 'a', imagePath: null, caption: 'a cat', references: ['a cat'], scores: { cider: 0.3 } },
          ],
        });
        expect(evaluation).toMatchObject({ runId: run.id, imageCount: 2, split: 'test', decoding: { beamSize: 3 }, aggregate: { bleu4: 0.21 } });
        expect(evaluation.metricDefinitions).toEqual({ bleu: { n: 4, tokenizer: 'ptb' }, cider: { variant: 'CIDEr-D', sigma: 6 } });
        expect((await store.evaluations.items(evaluation.id)).map((item) => item.imageId)).toEqual(['a', 'b']);
        expect((await store.evaluations.items(evaluation.id, { limit: 1, offset: 1 }))[0]).toMatchObject({ imageId: 'b', references: ['a dog', 'the dog'], scores: { cider: 0.9 } });
        expect(await store.evaluations.list({ runId: run.id })).toEqual([evaluation]);
      });

      it('stores nothing when an item is bad', async () => {
        const item = { imageId: 'a', imagePath: null, caption: 'x', references: [], scores: {} };
        await expectApiError(
          store.evaluations.create({ split: 'test', decoding: {}, metricDefinitions: {}, aggregate: {}, items: [item, item] }),
          'invalid_request',
          /twice/,
        );
        await expectApiError(
          store.evaluations.create({ split: 'test', decoding: {}, metricDefinitions: {}, aggregate: { bleu: Number.NaN }, items: [] }),
          'invalid_request',
          /aggregate\.bleu/,
        );
        expect(await store.evaluations.list()).toEqual([]);
      });
    });

    // ─── tuning ──────────────────────────────────────────────────────────────

    describe('studies and trials', () => {
      const studyInput = { name: 'lstm sweep', objective: 'val/loss', direction: 'minimize' as const, searchSpace: { lr: { low: 1e-6, high: 1e-3, log: true } }, sampler: 'tpe', pruner: 'median', baseConfig: { epochs: 5 } };

      it('refuses a second study with the same name', async () => {
        const study = await store.studies.create(studyInput);
        expect(study).toMatchObject({ name: 'lstm sweep', status: 'running', direction: 'minimize' });
        expect(await store.studies.getByName('lstm sweep')).toEqual(study);
        await expectApiError(store.studies.create(studyInput), 'conflict', /lstm sweep/);
      });

      it('numbers trials 0, 1, 2, ... even when added at once', async () => {
        const study = await store.studies.create(studyInput);
        const trials = await Promise.all(Array.from({ length: 6 }, (_, index) => store.studies.createTrial(study.id, { lr: index })));
        expect(trials.map((trial) => trial.number).sort()).toEqual([0, 1, 2, 3, 4, 5]);
        expect((await store.studies.trials(study.id)).map((trial) => trial.number)).toEqual([0, 1, 2, 3, 4, 5]);
        expect(trials[0]).toMatchObject({ state: 'running', value: null });
      });

      it('starts an enqueued trial once, with its full parameters, keeping its number', async () => {
        const study = await store.studies.create(studyInput);
        const waiting = await store.studies.createTrial(study.id, { lr: 1e-4 }, 'queued');
        expect(waiting).toMatchObject({ number: 0, state: 'queued', params: { lr: 1e-4 } });
        await store.studies.createTrial(study.id, { lr: 1e-5 });
        const started = await store.studies.startQueuedTrial(waiting.id, { lr: 1e-4, units: 256 });
        expect(started).toMatchObject({ number: 0, state: 'running', params: { lr: 1e-4, units: 256 } });
        expect(started.startedAt).not.toBeNull();
        const task = await store.tasks.get(started.taskId!);
        expect(task).toMatchObject({ state: 'running', kind: 'trial' });
        // A second start (another process, or twice) is refused and changes nothing.
        await expectApiError(store.studies.startQueuedTrial(waiting.id, { lr: 1 }), 'conflict', /is running; only a queued trial can be started/);
        expect((await store.studies.getTrial(waiting.id))?.params).toEqual({ lr: 1e-4, units: 256 });
        await expectApiError(store.studies.startQueuedTrial(waiting.id + 100, {}), 'not_found');
      });

      it('keeps intermediate values per step, results, and the trial run', async () => {
        const study = await store.studies.create(studyInput);
        const trial = await store.studies.createTrial(study.id, { lr: 0.001 });
        await store.studies.reportIntermediate(trial.id, 2, 1.5);
        await store.studies.reportIntermediate(trial.id, 1, 2.5);
        await store.studies.reportIntermediate(trial.id, 2, 1.4);
        expect(await store.studies.intermediates(trial.id)).toEqual([{ step: 1, value: 2.5 }, { step: 2, value: 1.4 }]);
        await expectApiError(store.studies.reportIntermediate(trial.id, 3, Number.NaN), 'invalid_request');
        const run = await newRun({ status: 'running' });
        expect((await store.studies.attachRun(trial.id, run.id)).runId).toBe(run.id);
        expect((await store.runs.get(run.id))?.trialId).toBe(trial.id);
        // The run's metrics keep its trial alive.
        advance(30_000);
        await store.metrics.append([{ runId: run.id, key: 'val/loss', step: 1, epoch: 0, value: 1 }]);
        expect((await store.studies.getTrial(trial.id))?.heartbeatAt).toBe(new Date(now).toISOString());
        const done = await store.studies.setTrialState(trial.id, 'completed', { value: 1.4 });
        expect(done).toMatchObject({ state: 'completed', value: 1.4 });
        expect(done.finishedAt).not.toBeNull();
        await expectApiError(store.studies.setTrialState(trial.id, 'running'), 'conflict');
        const other = await store.studies.createTrial(study.id, {});
        await expectApiError(store.studies.attachRun(other.id, run.id), 'conflict', /already belongs/);
        await store.runs.delete(run.id, { force: true });
        expect((await store.studies.getTrial(trial.id))?.runId).toBeNull();
        await store.studies.delete(study.id);
        expect(await store.studies.getTrial(trial.id)).toBeNull();
      });
    });

    // ─── batch jobs ──────────────────────────────────────────────────────────

    describe('batch captioning jobs', () => {
      it('counts results once per image and tells a resumed job what to skip', async () => {
        const job = await store.batchJobs.create({ inputPath: '/photos', modelPath: '/m/model.zip', decoding: { strategy: 'greedy' }, total: 3 });
        expect(job).toMatchObject({ status: 'queued', done: 0, total: 3 });
        await store.batchJobs.setStatus(job.id, 'running');
        await store.batchJobs.addResults(job.id, [
          { imagePath: '/photos/b.jpg', caption: 'a boat', score: -3.2 },
          { imagePath: '/photos/a.jpg', caption: null, error: 'not an image' },
        ]);
        await store.batchJobs.addResults(job.id, [{ imagePath: '/photos/b.jpg', caption: 'a red boat', score: -2.9 }]);
        expect((await store.batchJobs.get(job.id))?.done).toBe(2);
        expect(await store.batchJobs.donePaths(job.id)).toEqual(['/photos/a.jpg', '/photos/b.jpg']);
        expect((await store.batchJobs.results(job.id)).map((result) => [result.imagePath, result.caption, result.error])).toEqual([
          ['/photos/a.jpg', null, 'not an image'],
          ['/photos/b.jpg', 'a red boat', null],
        ]);
        const finished = await store.batchJobs.setStatus(job.id, 'completed');
        expect(finished.finishedAt).not.toBeNull();
        await store.batchJobs.delete(job.id);
        expect(await store.batchJobs.get(job.id)).toBeNull();
      });

      it('plans shards with their queued tasks once each, keeps the plan\'s cursor, pages results in listing order, deletes shard tasks with the job', async () => {
        const job = await store.batchJobs.create({ inputPath: '/photos', modelPath: '/m', decoding: {}, total: 0 });
        const options = { input: { folder: '/photos', recursive: true, include: [], exclude: [] }, model: { package: 'p' }, decoding: {}, outputs: { sidecar: null, csv: '/out.csv', jsonl: null, coco: null }, batchSize: 4, shardSize: 2 };
        await store.batchReview.setup(job.id, options as never, 'p');
        expect(await store.batchJobs.plan(job.id)).toEqual({ listed: 0, ordinals: 0, planned: false, shards: 0 });
        expect(await store.batchJobs.addShard(job.id, { shard: 0, firstOrdinal: 0, images: ['/photos/z.jpg', '/photos/y.jpg'] }, { listed: 3, ordinals: 2, ignored: 1, excluded: 0 })).toBe(true);
        // A planner listing again after a crash adds nothing twice.
        expect(await store.batchJobs.addShard(job.id, { shard: 0, firstOrdinal: 0, images: ['/photos/z.jpg', '/photos/y.jpg'] }, { listed: 3, ordinals: 2, ignored: 1, excluded: 0 })).toBe(false);
        expect(await store.batchJobs.addShard(job.id, { shard: 1, firstOrdinal: 2, images: ['/photos/sub/a.jpg'] }, { listed: 5, ordinals: 3, ignored: 0, excluded: 1 })).toBe(true);
        expect(await store.batchJobs.plan(job.id)).toEqual({ listed: 5, ordinals: 3, planned: false, shards: 2 });
        await store.batchJobs.finishPlan(job.id, { listed: 6, ordinals: 3, ignored: 1, excluded: 0 });
        expect(await store.batchJobs.plan(job.id)).toEqual({ listed: 6, ordinals: 3, planned: true, shards: 2 });
        expect(await store.batchReview.settings(job.id)).toMatchObject({ total: 3, ignored: 2, excluded: 1 });

        const shards = await store.batchJobs.shards(job.id);
        expect(shards.map(({ shard, firstOrdinal, size, state, attempts }) => ({ shard, firstOrdinal, size, state, attempts }))).toEqual([
          { shard: 0, firstOrdinal: 0, size: 2, state: 'queued', attempts: 0 },
          { shard: 1, firstOrdinal: 2, size: 1, state: 'queued', attempts: 0 },
        ]);
        const task = await store.tasks.get(shards[1]!.taskId!);
        expect(task).toMatchObject({ kind: 'batch', params: { jobId: job.id, shard: 1 }, subject: { type: 'batchJob', id: job.id }, parentId: job.taskId });
        expect(task?.title).toContain('shard 2');
        expect(await store.batchJobs.shardImages(job.id, 0)).toEqual({ firstOrdinal: 0, images: ['/photos/z.jpg', '/photos/y.jpg'] });
        await expect(store.batchJobs.shardImages(job.id, 7)).rejects.toMatchObject({ code: 'not_found' });
        // A shard's task moving does not move the job.
        await store.tasks.claimById(shards[0]!.taskId!, { host: hostname(), pid: process.pid, worker: 'shard-runner' });
        expect((await store.batchJobs.get(job.id))?.status).toBe('queued');

        // Results arrive in any order; pages come in listing order (results without an ordinal, from before shards, first).
        const item = (path: string, ordinal?: number) => ({ path, relativePath: path.slice(8), outcome: 'captioned' as const, caption: `c ${path}`, logProb: -1, confidence: -1, error: null, ordinal });
        await store.batchReview.record(job.id, [item('/photos/sub/a.jpg', 2), item('/photos/old.jpg')], { ignored: 0, excluded: 0, sidecarPending: false });
        await store.batchReview.record(job.id, [item('/photos/y.jpg', 1), item('/photos/z.jpg', 0)], { ignored: 0, excluded: 0, sidecarPending: false });
        // Re-captioning without an ordinal keeps the image's place.
        await store.batchReview.record(job.id, [{ ...item('/photos/z.jpg'), caption: 'again' }], { ignored: 0, excluded: 0, sidecarPending: false });
        const paged: string[] = [];
        for await (const page of store.batchReview.pages(job.id, 1)) paged.push(...page.map((entry) => entry.path));
        expect(paged).toEqual(['/photos/old.jpg', '/photos/z.jpg', '/photos/y.jpg', '/photos/sub/a.jpg']);

        await store.tasks.finish(shards[0]!.taskId!, { host: hostname(), pid: process.pid, worker: 'shard-runner' }, { state: 'completed' });
        await store.batchJobs.delete(job.id);
        expect(await store.tasks.get(shards[0]!.taskId!)).toBeNull();
        expect(await store.tasks.get(shards[1]!.taskId!)).toBeNull();
        expect(await store.tasks.get(job.taskId!)).toBeNull();
      });
    });

    // ─── crash recovery ──────────────────────────────────────────────────────

    describe('crash recovery', () => {
      it('crashes running work whose heartbeat went stale, keeping what it logged', async () => {
        const stale = await newRun({ status: 'running' });
        const dir = await store.runs.directory(stale.id);
        await store.metrics.append([{ runId: stale.id, key: 'loss', step: 5, epoch: 1, value: 0.5 }]);
        await store.checkpoints.add({ runId: stale.id, epoch: 1, step: 5, path: join(dir, 'e1') });
        const study = await store.studies.create({ name: 's', objective: 'loss', direction: 'minimize', searchSpace: {}, sampler: 'random', pruner: 'none', baseConfig: {} });
        const trial = await store.studies.createTrial(study.id, {});
        const job = await store.batchJobs.create({ inputPath: '/p', modelPath: '/m', decoding: {}, total: 1 });
        await store.batchJobs.setStatus(job.id, 'running');
        const queued = await newRun();
        advance(10 * 60_000);
        const fresh = await newRun({ status: 'running' });

        const report = await store.recoverInterrupted({ staleAfterMs: 60_000 });
        expect(report).toEqual({ runs: [stale.id], trials: [trial.id], batchJobs: [job.id], studies: [], tasks: [stale.taskId, trial.taskId, job.taskId] });
        const crashed = await store.runs.get(stale.id);
        expect(crashed?.status).toBe('crashed');
        expect(crashed?.error).toMatch(/No heartbeat from .* for 600 s/);
        expect(crashed?.error).toMatch(/epoch 1 checkpoint/);
        expect(crashed?.finishedAt).toBe(new Date(now).toISOString());
        expect((await store.metrics.series(stale.id, 'loss')).points).toHaveLength(1);
        expect((await store.runs.resumePoint(stale.id))?.epoch).toBe(1);
        expect((await store.studies.getTrial(trial.id))?.state).toBe('crashed');
        expect((await store.batchJobs.get(job.id))?.status).toBe('crashed');
        expect((await store.runs.get(fresh.id))?.status).toBe('running');
        // Queued work of a live owner is left alone: it may still start.
        expect((await store.runs.get(queued.id))?.status).toBe('queued');
        // A crashed run can resume.
        expect((await store.runs.setStatus(stale.id, 'running')).status).toBe('running');
        expect(await store.recoverInterrupted({ staleAfterMs: 60_000 })).toEqual({ runs: [], trials: [], batchJobs: [], studies: [], tasks: [] });
      });
    });

    // ─── tasks ───────────────────────────────────────────────────────────────

    const host = hostname();
    const ownerA: TaskOwner = { host, pid: process.pid, worker: 'executor-a' };
    const ownerB: TaskOwner = { host, pid: process.pid, worker: 'executor-b' };

    describe('task lifecycle', () => {
      const iso = (ms: number) => new Date(ms).toISOString();
      const newTask = (overrides: Partial<NewTask> = {}) =>
        store.tasks.create({ kind: 'training', title: 'train something', params: { epochs: 3 }, ...overrides });
      /** Runs a write that must be refused, and checks that the task is exactly as before. */
      const refused = async (id: number, write: Promise<unknown>, code: ApiError['code'], text?: RegExp) => {
        // The write is already under way; a networked store refuses it while
        // `before` is still being read, which must not count as unhandled.
        write.catch(() => undefined);
        const before = await store.tasks.get(id);
        const error = await expectApiError(write, code, text);
        expect(await store.tasks.get(id)).toEqual(before);
        return error;
      };

      it('creates a queued task with its params, subject and parent, and refuses bad input naming the field', async () => {
        const parent = await newTask({ kind: 'study', title: 'a study' });
        advance(5);
        const task = await newTask({ kind: 'trial', title: 'trial 0', params: { lr: 0.1 }, subject: { type: 'trial', id: 12 }, parentId: parent.id });
        expect(task).toMatchObject({
          kind: 'trial',
          title: 'trial 0',
          state: 'queued',
          params: { lr: 0.1 },
          subject: { type: 'trial', id: 12 },
          parentId: parent.id,
          retryOf: null,
          placement: 'any',
          owner: null,
          heartbeatAt: null,
          progress: null,
          result: null,
          error: null,
          attempts: 0,
          createdAt: iso(START + 5),
          startedAt: null,
          finishedAt: null,
          queuePosition: 1,
        });
        expect(await store.tasks.get(task.id)).toEqual(task);
        expect(await store.tasks.get(task.id + 1000)).toBeNull();
        await expectApiError(newTask({ kind: 'knitting' as never }), 'invalid_request', /kind/);
        await expectApiError(newTask({ params: [1] as never }), 'invalid_request', /params/);
        await expectApiError(newTask({ title: ' ' }), 'invalid_request', /title/);
        await expectApiError(newTask({ parentId: 9999 }), 'not_found', /9999/);
        expect((await store.tasks.list()).map((listed) => listed.id)).toEqual([task.id, parent.id]);
      });

      it('claims the oldest queued task of the asked kinds, for one owner, once', async () => {
        const a = await newTask({ kind: 'training' });
        advance(10);
        const b = await newTask({ kind: 'evaluation' });
        advance(10);
        const c = await newTask({ kind: 'training' });
        const d = await newTask({ kind: 'training' }); // same creation time as c: the lower id goes first

        advance(10);
        const first = await store.tasks.claim(ownerA, ['training']);
        expect(first).toMatchObject({ id: a.id, state: 'running', owner: ownerA, attempts: 1, startedAt: iso(now), heartbeatAt: iso(now), queuePosition: null });
        expect((await store.tasks.claim(ownerA, ['synthesis', 'evaluation', 'training']))?.id).toBe(b.id);
        expect(await store.tasks.claim(ownerB, ['synthesis'])).toBeNull();
        expect((await store.tasks.claimById(d.id, ownerB))?.owner).toEqual(ownerB);
        expect(await store.tasks.claimById(d.id, ownerA)).toBeNull();
        expect((await store.tasks.get(d.id))?.owner).toEqual(ownerB);
        expect((await store.tasks.claim(ownerB, ['training']))?.id).toBe(c.id);
        expect(await store.tasks.claim(ownerB, ['training'])).toBeNull();
        await expectApiError(store.tasks.claim(ownerA, []), 'invalid_request', /kinds/);
        await expectApiError(store.tasks.claim({ host: '', pid: 1, worker: 'w' }, ['training']), 'invalid_request', /owner\.host/);
        await expectApiError(store.tasks.claimById(4242, ownerA), 'not_found', /4242/);
      });

      it('keeps a task queued for the workers from claimers that take only `any`, and gives it to a worker', async () => {
        const forWorkers = await newTask({ kind: 'training', title: 'for the workers', placement: 'workers' });
        advance(10);
        const forAnyone = await newTask({ kind: 'training', title: 'for anyone' });
        expect(forWorkers.placement).toBe('workers');
        expect(forAnyone.placement).toBe('any');
        // Older, but a workbench (default: `any` only) passes it over.
        expect((await store.tasks.claim(ownerA, ['training']))?.id).toBe(forAnyone.id);
        expect(await store.tasks.claim(ownerA, ['training'], { placements: ['any'] })).toBeNull();
        expect((await store.tasks.get(forWorkers.id))?.state).toBe('queued');
        // Queue positions count every queued task, whoever may claim it.
        const third = await newTask({ kind: 'evaluation' });
        expect((await store.tasks.get(third.id))?.queuePosition).toBe(1);
        const claimed = await store.tasks.claim(ownerB, ['training'], { placements: ['any', 'workers'] });
        expect(claimed).toMatchObject({ id: forWorkers.id, state: 'running', owner: ownerB, placement: 'workers' });
        // A worker that takes only `workers` work leaves the rest.
        expect(await store.tasks.claim(ownerB, ['evaluation'], { placements: ['workers'] })).toBeNull();
        await expectApiError(store.tasks.claim(ownerA, ['training'], { placements: [] }), 'invalid_request', /placements/);
        await expectApiError(store.tasks.claim(ownerA, ['training'], { placements: ['gpu' as never] }), 'invalid_request', /placements\[0\]/);
        await expectApiError(newTask({ placement: 'cluster' as never }), 'invalid_request', /placement/);
      });

      it('keeps a placement on resume unless given another, and changes it only while queued', async () => {
        const task = await newTask({ placement: 'workers' });
        await store.tasks.claim(ownerA, ['training'], { placements: ['any', 'workers'] });
        await store.tasks.finish(task.id, ownerA, { state: 'failed', error: 'out of memory' });
        expect((await store.tasks.resume(task.id)).placement).toBe('workers');
        expect(await store.tasks.claim(ownerB, ['training'])).toBeNull();
        // A queued task moves between the workers and anyone.
        expect((await store.tasks.place(task.id, 'any')).placement).toBe('any');
        expect((await store.tasks.claim(ownerB, ['training']))?.id).toBe(task.id);
        await refused(task.id, store.tasks.place(task.id, 'workers'), 'conflict', /running; only a queued task/);
        // Placing a task where it already is changes nothing, in any state.
        expect((await store.tasks.place(task.id, 'any')).state).toBe('running');
        await store.tasks.finish(task.id, ownerB, { state: 'cancelled' });
        expect((await store.tasks.resume(task.id, { placement: 'workers' })).placement).toBe('workers');
        await expectApiError(store.tasks.resume(task.id, { placement: 'anywhere' as never }), 'invalid_request', /placement/);
        await expectApiError(store.tasks.place(4242, 'any'), 'not_found', /4242/);
      });

      it('creates runs, studies and batch jobs with the placement asked for', async () => {
        const run = await newRun({ placement: 'workers' });
        const job = await store.batchJobs.create({ inputPath: '/photos', modelPath: '/m/model.zip', decoding: {}, total: 0, placement: 'workers' });
        const study = await store.studies.create({
          name: 'placed', objective: 'val/loss', direction: 'minimize', searchSpace: {}, sampler: 'tpe', pruner: 'median', baseConfig: {}, placement: 'workers',
        });
        const plain = await newRun();
        for (const taskId of [run.taskId, job.taskId, study.taskId]) expect((await store.tasks.get(taskId!))?.placement).toBe('workers');
        expect((await store.tasks.get(plain.taskId!))?.placement).toBe('any');
        const taken = await store.tasks.claim(ownerA, ['training', 'batch', 'study']);
        expect(taken?.id).toBe(plain.taskId);
        expect(await store.tasks.claim(ownerA, ['training', 'batch', 'study'])).toBeNull();
      });

      it('queues a batch job\'s shards where the job was queued', async () => {
        const forWorkers = await store.batchJobs.create({ inputPath: '/photos', modelPath: '/m/model.zip', decoding: {}, total: 0, placement: 'workers' });
        const forAnyone = await store.batchJobs.create({ inputPath: '/photos', modelPath: '/m/model.zip', decoding: {}, total: 0 });
        const options = { input: { folder: '/photos', recursive: true, include: [], exclude: [] }, model: { package: 'p' }, decoding: {}, outputs: { sidecar: null, csv: '/out.csv', jsonl: null, coco: null }, batchSize: 4, shardSize: 1 };
        for (const job of [forWorkers, forAnyone]) {
          await store.batchReview.setup(job.id, options as never, 'p');
          await store.batchJobs.addShard(job.id, { shard: 0, firstOrdinal: 0, images: ['/photos/a.jpg'] }, { listed: 1, ordinals: 1, ignored: 0, excluded: 0 });
        }
        const [workersShard] = await store.batchJobs.shards(forWorkers.id);
        const [anyoneShard] = await store.batchJobs.shards(forAnyone.id);
        expect((await store.tasks.get(workersShard!.taskId!))?.placement).toBe('workers');
        expect((await store.tasks.get(anyoneShard!.taskId!))?.placement).toBe('any');
      });

      it('lets exactly one of two connections claim a task, and splits many tasks between them without duplicates', async () => {
        const other = await fixture.openAnother();
        for (let round = 0; round < 5; round++) {
          const task = await newTask({ title: `contested ${round}` });
          const [mine, theirs] = await Promise.all([store.tasks.claimById(task.id, ownerA), other.tasks.claimById(task.id, ownerB)]);
          expect([mine, theirs].filter((claimed) => claimed !== null)).toHaveLength(1);
          const winner = mine ? ownerA : ownerB;
          expect((await store.tasks.get(task.id))?.owner).toEqual(winner);
          expect((await other.tasks.get(task.id))?.attempts).toBe(1);
        }
        const single = await newTask({ kind: 'import' });
        const raced = await Promise.all([store.tasks.claim(ownerA, ['import']), other.tasks.claim(ownerB, ['import'])]);
        expect(raced.map((claimed) => claimed?.id ?? null).sort()).toEqual([null, single.id].sort());

        const ids: number[] = [];
        for (let index = 0; index < 40; index++) ids.push((await newTask({ kind: 'batch', title: `job ${index}` })).id);
        const claimedBy = new Map<number, string[]>();
        const executor = async (connection: ExperimentStore, owner: TaskOwner) => {
          for (;;) {
            const task = await connection.tasks.claim(owner, ['batch']);
            if (!task) return;
            expect(task.owner).toEqual(owner);
            claimedBy.set(task.id, [...(claimedBy.get(task.id) ?? []), owner.worker]);
          }
        };
        const workers = [1, 2, 3].flatMap((n) => [
          executor(store, { ...ownerA, worker: `a${n}` }),
          executor(other, { ...ownerB, worker: `b${n}` }),
        ]);
        await Promise.all(workers);
        expect([...claimedBy.keys()].sort((x, y) => x - y)).toEqual(ids);
        expect([...claimedBy.values()].filter((owners) => owners.length !== 1)).toEqual([]);
        const stored = await store.tasks.list({ kinds: ['batch'] });
        for (const task of stored) {
          expect(task.state).toBe('running');
          expect(task.attempts).toBe(1);
          expect(claimedBy.get(task.id)).toEqual([task.owner?.worker]);
        }
        // Both connections took part.
        const byConnection = new Set([...claimedBy.values()].map((owners) => owners[0]?.[0]));
        expect([...byConnection].sort()).toEqual(['a', 'b']);
      });

      it('takes heartbeats and progress from the owner only, and tells it of a stop request', async () => {
        const task = await newTask();
        await store.tasks.claimById(task.id, ownerA);
        advance(1000);
        const progress = { stage: 'epoch 1/3', done: 10, total: 30, unit: 'steps', throughput: 2.5, etaSeconds: 8 };
        expect(await store.tasks.heartbeat(task.id, ownerA, progress)).toEqual({ stopRequested: false });
        expect(await store.tasks.get(task.id)).toMatchObject({ heartbeatAt: iso(now), progress });
        advance(1000);
        expect(await store.tasks.heartbeat(task.id, ownerA)).toEqual({ stopRequested: false });
        expect(await store.tasks.get(task.id)).toMatchObject({ heartbeatAt: iso(now), progress });
        await refused(task.id, store.tasks.heartbeat(task.id, ownerB, { ...progress, done: 11 }), 'conflict', /executor-a.*executor-b|executor-b.*executor-a/);
        await refused(task.id, store.tasks.heartbeat(task.id, ownerA, { ...progress, done: Number.NaN }), 'invalid_request', /progress\.done/);
        await expectApiError(store.tasks.heartbeat(777, ownerA), 'not_found', /777/);

        expect(await store.tasks.requestStop(task.id, 'The user pressed stop.')).toBe(true);
        expect((await store.tasks.get(task.id))?.state).toBe('stopping');
        expect(await store.tasks.requestStop(task.id)).toBe(false);
        advance(1000);
        expect(await store.tasks.heartbeat(task.id, ownerA)).toEqual({ stopRequested: true });
        await refused(task.id, store.tasks.finish(task.id, ownerB, { state: 'cancelled' }), 'conflict', /owned by/);
        const ended = await store.tasks.finish(task.id, ownerA, { state: 'cancelled', result: { savedAt: 'epoch 1' } });
        expect(ended).toMatchObject({ state: 'cancelled', error: 'The user pressed stop.', result: { savedAt: 'epoch 1' }, finishedAt: iso(now), owner: ownerA });
        expect(await store.tasks.requestStop(task.id)).toBe(false);
        expect(await store.tasks.get(task.id)).toEqual(ended);
      });

      it('cancels a queued task at once; nobody can claim it afterwards', async () => {
        const task = await newTask();
        advance(50);
        expect(await store.tasks.requestStop(task.id, 'Not needed any more.')).toBe(true);
        expect(await store.tasks.get(task.id)).toMatchObject({ state: 'cancelled', error: 'Not needed any more.', owner: null, finishedAt: iso(now), queuePosition: null, attempts: 0 });
        expect(await store.tasks.claim(ownerA, ['training'])).toBeNull();
        expect(await store.tasks.claimById(task.id, ownerA)).toBeNull();
        expect(await store.tasks.requestStop(task.id)).toBe(false);
        await expectApiError(store.tasks.requestStop(5555), 'not_found', /5555/);
      });

      it('refuses every forbidden transition with a conflict naming both states, and writes nothing', async () => {
        const queued = await newTask();
        await refused(queued.id, store.tasks.finish(queued.id, ownerA, { state: 'completed' }), 'conflict', /queued.*completed/);
        await refused(queued.id, store.tasks.resume(queued.id), 'conflict', /queued.*queued/);
        await refused(queued.id, store.tasks.heartbeat(queued.id, ownerA), 'conflict', /queued/);
        await refused(queued.id, store.tasks.finish(queued.id, ownerA, { state: 'crashed' }), 'conflict', /queued.*crashed/);

        const running = await newTask();
        await store.tasks.claimById(running.id, ownerA);
        await refused(running.id, store.tasks.resume(running.id), 'conflict', /running.*queued/);
        await refused(running.id, store.tasks.finish(running.id, ownerA, { state: 'paused' as never }), 'invalid_request', /end\.state/);
        await refused(running.id, store.tasks.finish(running.id, ownerA, { state: 'completed', result: [1] as never }), 'invalid_request', /end\.result/);
        await refused(running.id, store.tasks.delete(running.id), 'conflict', /running/);
        advance(100);
        const completed = await store.tasks.finish(running.id, ownerA, { state: 'completed', result: { bleu4: 0.3 } });
        expect(completed).toMatchObject({ state: 'completed', result: { bleu4: 0.3 }, error: null, finishedAt: iso(now) });
        await refused(running.id, store.tasks.finish(running.id, ownerA, { state: 'failed', error: 'late' }), 'conflict', /completed.*failed/);
        await refused(running.id, store.tasks.resume(running.id), 'conflict', /completed.*queued/);
        await refused(running.id, store.tasks.heartbeat(running.id, ownerA), 'conflict', /completed/);
        expect(await store.tasks.claimById(running.id, ownerA)).toBeNull();
        expect(await store.tasks.get(running.id)).toEqual(completed);
        await expectApiError(store.tasks.finish(8888, ownerA, { state: 'completed' }), 'not_found', /8888/);
        await expectApiError(store.tasks.resume(8888), 'not_found', /8888/);
      });

      it('lets the owner end a task as crashed when the process doing the work died under it', async () => {
        const task = await newTask();
        await store.tasks.claimById(task.id, ownerA);
        await refused(task.id, store.tasks.finish(task.id, ownerB, { state: 'crashed', error: 'not mine' }), 'conflict', /owned by/);
        advance(20);
        const crashed = await store.tasks.finish(task.id, ownerA, { state: 'crashed', error: 'The engine exited with signal SIGKILL.' });
        expect(crashed).toMatchObject({ state: 'crashed', error: 'The engine exited with signal SIGKILL.', finishedAt: iso(now) });
        expect((await store.tasks.resume(task.id)).result).toEqual({ previousErrors: ['The engine exited with signal SIGKILL.'] });
      });

      it('crashes running and stopping tasks whose heartbeat went stale, naming host, pid and silence; leaves the rest', async () => {
        const silent = await newTask({ title: 'silent' });
        const stopping = await newTask({ title: 'stopping' });
        const beating = await newTask({ title: 'beating' });
        const queued = await newTask({ title: 'queued' });
        const done = await newTask({ title: 'done' });
        for (const task of [silent, stopping, beating, done]) await store.tasks.claimById(task.id, ownerA);
        await store.tasks.finish(done.id, ownerA, { state: 'completed' });
        await store.tasks.requestStop(stopping.id);
        advance(120_000);
        await store.tasks.heartbeat(beating.id, ownerA);

        const recovered = await store.tasks.recoverStale({ staleAfterMs: 60_000 });
        expect(recovered.map((task) => task.id).sort((x, y) => x - y)).toEqual([silent.id, stopping.id]);
        for (const task of recovered) {
          expect(task).toMatchObject({ state: 'crashed', finishedAt: iso(now), owner: ownerA });
          expect(task.error).toContain(host);
          expect(task.error).toContain(String(process.pid));
          expect(task.error).toMatch(/\b120 s\b/);
          expect(await store.tasks.get(task.id)).toEqual(task);
        }
        expect((await store.tasks.get(beating.id))?.state).toBe('running');
        expect((await store.tasks.get(queued.id))?.state).toBe('queued');
        expect((await store.tasks.get(done.id))?.state).toBe('completed');
        // The owner presumed dead cannot overwrite what happened since.
        await refused(silent.id, store.tasks.heartbeat(silent.id, ownerA), 'conflict', /crashed/);
        await refused(silent.id, store.tasks.finish(silent.id, ownerA, { state: 'completed' }), 'conflict', /crashed.*completed/);
        expect(await store.tasks.recoverStale({ staleAfterMs: 60_000 })).toEqual([]);
        // `now` judges from another point in time.
        expect((await store.tasks.recoverStale({ staleAfterMs: 60_000, now: now + 61_000 })).map((task) => task.id)).toEqual([beating.id]);
      });

      it('crashes at once a task whose owning process is gone from this host, whatever its heartbeat', async () => {
        const gone = spawnSync(process.execPath, ['-e', '']).pid;
        expect(gone).toBeGreaterThan(0);
        const dead: TaskOwner = { host, pid: gone as number, worker: 'executor-dead' };
        const elsewhere: TaskOwner = { host: 'another-machine.invalid', pid: gone as number, worker: 'executor-far' };
        const orphan = await newTask({ title: 'orphan' });
        const remote = await newTask({ title: 'remote' });
        await store.tasks.claimById(orphan.id, dead);
        await store.tasks.claimById(remote.id, elsewhere);
        advance(3000);
        const recovered = await store.tasks.recoverStale({ staleAfterMs: 3_600_000 });
        expect(recovered.map((task) => task.id)).toEqual([orphan.id]);
        expect(recovered[0]?.error).toContain(host);
        expect(recovered[0]?.error).toContain(String(gone));
        expect(recovered[0]?.error).toMatch(/\b3 s\b/);
        // Another machine's processes cannot be seen: its heartbeat decides.
        expect((await store.tasks.get(remote.id))?.state).toBe('running');
      });

      it('resumes a crashed, failed or cancelled task on the same row, keeping attempts and every earlier error', async () => {
        const task = await newTask();
        await store.tasks.claimById(task.id, ownerA);
        const started = iso(now);
        advance(600_000);
        const [crashed] = await store.tasks.recoverStale({ staleAfterMs: 60_000 });
        advance(10);
        const resumed = await store.tasks.resume(task.id);
        expect(resumed).toMatchObject({ id: task.id, state: 'queued', owner: null, heartbeatAt: null, error: null, finishedAt: null, startedAt: started, attempts: 1, queuePosition: 0 });
        expect(resumed.result).toEqual({ previousErrors: [crashed?.error] });

        advance(10);
        const again = await store.tasks.claim(ownerB, ['training']);
        expect(again).toMatchObject({ id: task.id, attempts: 2, owner: ownerB, startedAt: started });
        await refused(task.id, store.tasks.heartbeat(task.id, ownerA), 'conflict', /owned by/);
        await store.tasks.finish(task.id, ownerB, { state: 'failed', error: 'out of memory', result: { step: 40 } });
        expect((await store.tasks.get(task.id))?.result).toEqual({ step: 40, previousErrors: [crashed?.error] });
        const second = await store.tasks.resume(task.id);
        expect(second.result).toEqual({ step: 40, previousErrors: [crashed?.error, 'out of memory'] });
        await store.tasks.requestStop(task.id);
        expect((await store.tasks.resume(task.id)).result?.previousErrors).toEqual([crashed?.error, 'out of memory', 'Cancelled before it started.']);
        expect((await store.tasks.claim(ownerA, ['training']))?.attempts).toBe(3);
      });

      it('gives queued tasks their place in the queue, across kinds', async () => {
        const a = await newTask({ kind: 'training' });
        advance(1);
        const b = await newTask({ kind: 'evaluation' });
        advance(1);
        const c = await newTask({ kind: 'synthesis' });
        const position = async (id: number) => (await store.tasks.get(id))?.queuePosition;
        expect([await position(a.id), await position(b.id), await position(c.id)]).toEqual([0, 1, 2]);
        await store.tasks.claim(ownerA, ['training']);
        expect([await position(a.id), await position(b.id), await position(c.id)]).toEqual([null, 0, 1]);
        await store.tasks.requestStop(b.id);
        expect([await position(b.id), await position(c.id)]).toEqual([null, 0]);
        expect((await store.tasks.list({ states: ['queued'] })).map((task) => [task.id, task.queuePosition])).toEqual([[c.id, 0]]);
      });

      it('lists newest first, filtered by state, kind, parent and subject, up to a limit', async () => {
        const study = await newTask({ kind: 'study', title: 'study' });
        advance(1);
        const first = await newTask({ kind: 'trial', title: 'trial 0', parentId: study.id, subject: { type: 'trial', id: 1 } });
        advance(1);
        const second = await newTask({ kind: 'trial', title: 'trial 1', parentId: study.id, subject: { type: 'trial', id: 2 } });
        advance(1);
        const evaluation = await newTask({ kind: 'evaluation', title: 'evaluate', subject: { type: 'evaluation', id: 1 } });
        const ids = (tasks: TaskRecord[]) => tasks.map((task) => task.id);
        expect(ids(await store.tasks.list())).toEqual([evaluation.id, second.id, first.id, study.id]);
        expect(ids(await store.tasks.list({ kinds: ['trial'] }))).toEqual([second.id, first.id]);
        expect(ids(await store.tasks.list({ parentId: study.id }))).toEqual([second.id, first.id]);
        expect(ids(await store.tasks.list({ subject: { type: 'trial', id: 1 } }))).toEqual([first.id]);
        expect(ids(await store.tasks.list({ subject: { type: 'evaluation', id: 2 } }))).toEqual([]);
        await store.tasks.claimById(first.id, ownerA);
        expect(ids(await store.tasks.list({ states: ['running'] }))).toEqual([first.id]);
        expect(ids(await store.tasks.list({ states: ['queued'], kinds: ['trial', 'study'] }))).toEqual([second.id, study.id]);
        expect(ids(await store.tasks.list({ limit: 2 }))).toEqual([evaluation.id, second.id]);
        await expectApiError(store.tasks.list({ states: ['paused' as never] }), 'invalid_request', /paused/);
      });

      it('deletes finished tasks only; their domain rows stay with their last status', async () => {
        const run = await newRun({ status: 'running' });
        const taskId = run.taskId as number;
        await refused(taskId, store.tasks.delete(taskId), 'conflict', /running/);
        await store.runs.setStatus(run.id, 'completed');
        await store.tasks.delete(taskId);
        expect(await store.tasks.get(taskId)).toBeNull();
        expect(await store.runs.get(run.id)).toMatchObject({ status: 'completed', taskId: null, heartbeatAt: null });
        await expectApiError(store.runs.setStatus(run.id, 'running'), 'conflict', /task was deleted/);
        await expectApiError(store.tasks.delete(taskId), 'not_found', new RegExp(String(taskId)));
      });
    });

    describe('domain rows follow their task', () => {
      it("gives a run a training task whose moves (from any executor) set the run's status, error and times", async () => {
        const run = await newRun({ name: 'follows' });
        const taskId = run.taskId as number;
        expect(await store.tasks.get(taskId)).toMatchObject({ kind: 'training', state: 'queued', params: { runId: run.id }, subject: { type: 'run', id: run.id } });
        const custom = await newRun({ taskParams: { runId: 0, config: { epochs: 2 } } });
        expect((await store.tasks.get(custom.taskId as number))?.params).toEqual({ runId: 0, config: { epochs: 2 } });

        const executor: TaskOwner = { host: hostname(), pid: process.pid, worker: 'runtime-1' };
        advance(10);
        await store.tasks.claimById(taskId, executor);
        expect(await store.runs.get(run.id)).toMatchObject({ status: 'running', startedAt: new Date(now).toISOString(), heartbeatAt: new Date(now).toISOString() });
        expect((await store.runs.list({ status: ['running'] })).runs.map((listed) => listed.id)).toEqual([run.id]);
        // The facade acts as the store's own worker, not as this executor.
        await expectApiError(store.runs.setStatus(run.id, 'completed'), 'conflict', /runtime-1/);
        await expectApiError(store.runs.heartbeat(run.id), 'conflict', /runtime-1/);
        advance(10);
        await store.metrics.append([{ runId: run.id, key: 'loss', step: 1, epoch: 0, value: 1 }]);
        expect((await store.tasks.get(taskId))?.heartbeatAt).toBe(new Date(now).toISOString());
        await store.tasks.requestStop(taskId, 'Stopped from the runs page.');
        expect(await store.runs.get(run.id)).toMatchObject({ status: 'running', error: null });
        advance(10);
        await store.tasks.finish(taskId, executor, { state: 'cancelled' });
        expect(await store.runs.get(run.id)).toMatchObject({ status: 'stopped', error: 'Stopped from the runs page.', finishedAt: new Date(now).toISOString() });
        expect((await store.runs.list({ status: ['stopped'] })).runs.map((listed) => listed.id)).toEqual([run.id]);
        await store.tasks.resume(taskId);
        expect(await store.runs.get(run.id)).toMatchObject({ status: 'queued', error: null, finishedAt: null });
        await store.tasks.claimById(taskId, executor);
        await store.tasks.finish(taskId, executor, { state: 'failed', error: 'loss became NaN' });
        expect(await store.runs.get(run.id)).toMatchObject({ status: 'failed', error: 'loss became NaN' });
      });

      it('keeps the older status setters working as moves of the task, made as the store\'s own worker', async () => {
        const unwanted = await newRun();
        expect(await store.runs.setStatus(unwanted.id, 'stopped', { error: 'Not needed.' })).toMatchObject({ status: 'stopped', error: 'Not needed.' });
        expect(await store.tasks.get(unwanted.taskId as number)).toMatchObject({ state: 'cancelled', owner: null, attempts: 0 });

        const broken = await newRun();
        expect(await store.runs.setStatus(broken.id, 'failed', { error: 'The config names no dataset.' })).toMatchObject({ status: 'failed', error: 'The config names no dataset.' });
        expect(await store.tasks.get(broken.taskId as number)).toMatchObject({ state: 'failed', attempts: 1 });

        const run = await newRun({ status: 'running' });
        const taskId = run.taskId as number;
        expect((await store.tasks.get(taskId))?.owner).toEqual({ host: expect.any(String), pid: expect.any(Number), worker: FACADE_WORKER });
        // The owner reports that its engine died: crashed at once, with the resume hint on the run.
        const crashed = await store.runs.setStatus(run.id, 'crashed', { error: 'The engine process exited with code 134.' });
        expect(crashed.status).toBe('crashed');
        expect(crashed.error).toMatch(/^The engine process exited with code 134\. Everything logged until then is kept/);
        expect((await store.tasks.get(taskId))?.error).toBe('The engine process exited with code 134.');
        // A crashed run's old owner cannot report another end any more.
        await expectApiError(store.runs.setStatus(run.id, 'completed'), 'conflict', /crashed and cannot become completed/);
        await expectApiError(store.runs.heartbeat(run.id), 'conflict', /crashed/);
        advance(10);
        const resumed = await store.runs.setStatus(run.id, 'running', { backend: 'wasm' });
        expect(resumed).toMatchObject({ status: 'running', error: null, finishedAt: null, backend: 'wasm', startedAt: run.startedAt, heartbeatAt: new Date(now).toISOString() });
        expect(await store.tasks.get(taskId)).toMatchObject({ state: 'running', attempts: 2, result: { previousErrors: ['The engine process exited with code 134.'] } });
        expect((await store.runs.setStatus(run.id, 'running', { backend: 'tensorflow' })).backend).toBe('tensorflow');
        await store.runs.setStatus(run.id, 'completed');
        await expectApiError(store.runs.setStatus(run.id, 'running'), 'conflict', /completed and cannot become running/);
        await expectApiError(store.runs.setStatus(run.id, 'queued'), 'conflict', /queued/);
        expect((await store.tasks.get(taskId))?.state).toBe('completed');

        const job = await store.batchJobs.create({ inputPath: '/in', modelPath: '/m', decoding: {}, total: 1 });
        expect((await store.batchJobs.setStatus(job.id, 'running')).status).toBe('running');
        advance(1000);
        await store.batchJobs.heartbeat(job.id);
        expect((await store.batchJobs.get(job.id))?.heartbeatAt).toBe(new Date(now).toISOString());
        expect(await store.batchJobs.setStatus(job.id, 'stopped', { error: 'Paused by the user.' })).toMatchObject({ status: 'stopped', error: 'Paused by the user.' });
        expect((await store.tasks.get(job.taskId as number))?.state).toBe('cancelled');

        const study = await store.studies.create({ name: 'facade', objective: 'val/loss', direction: 'minimize', searchSpace: {}, sampler: 'random', pruner: 'none', baseConfig: {} });
        const trial = await store.studies.createTrial(study.id, {});
        await expectApiError(store.studies.setTrialState(trial.id, 'queued'), 'conflict', /running and cannot become queued/);
        expect(await store.studies.setTrialState(trial.id, 'failed', { error: 'diverged' })).toMatchObject({ state: 'failed', error: 'diverged' });
        expect((await store.studies.setStatus(study.id, 'stopped')).status).toBe('stopped');
        expect((await store.tasks.get(study.taskId as number))?.state).toBe('cancelled');
        expect((await store.studies.setStatus(study.id, 'running')).status).toBe('running');
        expect((await store.tasks.get(study.taskId as number))?.state).toBe('queued');
        expect((await store.studies.setStatus(study.id, 'completed')).status).toBe('completed');
      });

      it('maps trial, batch job and study statuses from their tasks', async () => {
        const study = await store.studies.create({ name: 'follow', objective: 'val/loss', direction: 'minimize', searchSpace: {}, sampler: 'random', pruner: 'median', baseConfig: {} });
        expect(await store.tasks.get(study.taskId as number)).toMatchObject({ kind: 'study', state: 'queued', params: { studyId: study.id } });
        const trial = await store.studies.createTrial(study.id, { lr: 0.1 }, 'queued');
        expect(await store.tasks.get(trial.taskId as number)).toMatchObject({ kind: 'trial', state: 'queued', parentId: study.taskId, params: { trialId: trial.id, studyId: study.id } });
        await store.tasks.claimById(trial.taskId as number, ownerA);
        expect((await store.studies.getTrial(trial.id))?.state).toBe('running');
        await store.tasks.finish(trial.taskId as number, ownerA, { state: 'completed', result: { pruned: true } });
        expect((await store.studies.getTrial(trial.id))?.state).toBe('pruned');
        const pruned = await store.studies.createTrial(study.id, {});
        const done = await store.studies.setTrialState(pruned.id, 'pruned', { value: 2.5 });
        expect(done).toMatchObject({ state: 'pruned', value: 2.5 });
        expect((await store.tasks.get(pruned.taskId as number))?.result).toMatchObject({ pruned: true });
        const cancelled = await store.studies.createTrial(study.id, {}, 'queued');
        await store.tasks.requestStop(cancelled.taskId as number);
        expect((await store.studies.getTrial(cancelled.id))?.state).toBe('cancelled');

        const job = await store.batchJobs.create({ inputPath: '/photos', modelPath: '/m', decoding: {}, total: 2 });
        expect(await store.tasks.get(job.taskId as number)).toMatchObject({ kind: 'batch', state: 'queued', params: { jobId: job.id }, subject: { type: 'batchJob', id: job.id } });
        await store.tasks.claimById(job.taskId as number, ownerA);
        expect((await store.batchJobs.get(job.id))?.status).toBe('running');
        await store.tasks.finish(job.taskId as number, ownerA, { state: 'failed', error: 'model missing' });
        expect(await store.batchJobs.get(job.id)).toMatchObject({ status: 'failed', error: 'model missing' });

        await store.tasks.claimById(study.taskId as number, ownerA);
        expect((await store.studies.get(study.id))?.status).toBe('running');
        await store.tasks.finish(study.taskId as number, ownerA, { state: 'failed', error: 'search space empty' });
        expect((await store.studies.get(study.id))?.status).toBe('stopped');
        await store.tasks.resume(study.taskId as number);
        expect((await store.studies.get(study.id))?.status).toBe('running');
        await store.studies.delete(study.id);
        expect(await store.tasks.get(study.taskId as number)).toBeNull();
        expect(await store.tasks.get(trial.taskId as number)).toBeNull();
      });

      it('tells the hooks of task and run changes after they commit, and not of refused ones', async () => {
        const events: string[] = [];
        await fixture.dispose();
        now = START;
        fixture = await factory({
          clock: () => now,
          hooks: {
            onTaskChanged: (task) => events.push(`task ${task.id} ${task.state}`),
            onTaskDeleted: (taskId) => events.push(`task ${taskId} deleted`),
            onRunChanged: (run) => events.push(`run ${run.id} ${run.status}`),
          },
        });
        store = fixture.store;
        const run = await newRun();
        const taskId = run.taskId as number;
        expect(events).toEqual([`task ${taskId} queued`, `run ${run.id} queued`]);
        events.length = 0;
        await store.tasks.claimById(taskId, ownerA);
        expect(events).toEqual([`task ${taskId} running`, `run ${run.id} running`]);
        events.length = 0;
        await expectApiError(store.tasks.finish(taskId, ownerB, { state: 'completed' }), 'conflict');
        expect(events).toEqual([]);
        await store.tasks.finish(taskId, ownerA, { state: 'completed' });
        await store.tasks.delete(taskId);
        expect(events).toEqual([`task ${taskId} completed`, `run ${run.id} completed`, `task ${taskId} deleted`]);
      });
    });

    // ─── derived queries ─────────────────────────────────────────────────────

    describe('queries for the UI', () => {
      it('lists runs with best and last values of chosen metrics', async () => {
        const a = await newRun({ name: 'a' });
        const b = await newRun({ name: 'b' });
        await store.metrics.append([
          { runId: a.id, key: 'val/loss', step: 1, epoch: 0, value: 3 },
          { runId: a.id, key: 'val/loss', step: 2, epoch: 1, value: 2.5 },
          { runId: b.id, key: 'val/loss', step: 1, epoch: 0, value: 2 },
        ]);
        const list = await listRunsWithMetrics(store, {}, [{ key: 'val/loss' }]);
        const byName = Object.fromEntries(list.runs.map((run) => [run.name, run.metrics[0]]));
        expect(byName.a).toMatchObject({ best: { value: 2.5 }, last: { value: 2.5 } });
        expect(byName.b).toMatchObject({ best: { value: 2 }, count: 1 });
      });

      it('compares runs: aligned series per key and config differences', async () => {
        const a = await newRun({ config: { model: { lstmUnits: 256, dropout: 0.3 }, lr: 0.001, augment: ['flip'] } });
        const b = await newRun({ config: { model: { lstmUnits: 512, dropout: 0.3 }, lr: 0.001 } });
        await store.metrics.append([
          { runId: a.id, key: 'val/loss', step: 10, epoch: 0, value: 3 },
          { runId: b.id, key: 'val/loss', step: 10, epoch: 0, value: 2 },
          { runId: b.id, key: 'val/bleu4', step: 10, epoch: 0, value: 0.1 },
        ]);
        const comparison = await compareRuns(store, { runIds: [a.id, b.id], axis: 'epoch', maxPoints: 100 });
        expect(comparison.runs.map((run) => run.id)).toEqual([a.id, b.id]);
        expect(comparison.series.map((series) => series.key)).toEqual(['val/bleu4', 'val/loss']);
        expect(comparison.series[1]?.values).toEqual([[3], [2]]);
        expect(comparison.configDiff).toEqual([
          { path: 'augment.0', values: ['flip', null], missingIn: [b.id] },
          { path: 'model.lstmUnits', values: [256, 512], missingIn: [] },
        ]);
      });

      it('exports a run with its config, every metric point, files, samples and evaluations', async () => {
        const run = await newRun({ name: 'exported', config: { epochs: 2 } });
        const dir = await store.runs.directory(run.id);
        const points = Array.from({ length: 30 }, (_, step) => ({ runId: run.id, key: 'train/loss', step, epoch: step >= 15 ? 1 : 0, value: 1 / (step + 1), time: START + step }));
        await store.metrics.append(points);
        await store.checkpoints.add({ runId: run.id, epoch: 1, step: 29, path: join(dir, 'final') });
        await store.samples.add(run.id, 1, 29, [{ imageId: 'x', caption: 'a man' }]);
        await store.evaluations.create({ runId: run.id, split: 'val', decoding: { strategy: 'greedy' }, metricDefinitions: {}, aggregate: { cider: 0.4 }, items: [{ imageId: 'x', imagePath: null, caption: 'a man', references: ['a man'], scores: { cider: 0.4 } }] });
        const exported = await exportRun(store, run.id, new Date(START));
        expect(exported).toMatchObject({ format: 'captioning-workbench.run', version: 1, exportedAt: new Date(START).toISOString() });
        expect(exported.run).toMatchObject({ id: run.id, name: 'exported', config: { epochs: 2 } });
        expect(exported.metrics['train/loss']).toEqual(points.map(({ step, epoch, value, time }) => ({ step, epoch, value, time })));
        expect(exported.checkpoints.map((checkpoint) => checkpoint.path)).toEqual([join(dir, 'final')]);
        expect(exported.samples.map((sample) => sample.caption)).toEqual(['a man']);
        expect(exported.evaluations[0]?.items[0]?.scores).toEqual({ cider: 0.4 });
        // Plain data: survives a JSON round trip unchanged.
        expect(JSON.parse(JSON.stringify(exported))).toEqual(exported);
      });
    });
  });
}
