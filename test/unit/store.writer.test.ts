/** The buffered metric writer: batches by count and by time, flushes on close, isolates a failing run. */
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { MetricInput } from '../../src/shared/storeTypes';
import { MetricWriter } from '../../src/main/store/metricWriter';
import { openSqliteStore } from '../../src/main/store/sqliteStore';
import { tempDataDir } from '../helpers/storeFixtures';

const point = (step: number, runId = 1): MetricInput => ({ runId, key: 'loss', step, epoch: 0, value: step / 10, time: 1 });

afterEach(() => {
  vi.useRealTimers();
});

describe('MetricWriter', () => {
  it('commits one batch per maxRows points, in the order written', async () => {
    const batches: number[][] = [];
    const writer = new MetricWriter(async (points) => void batches.push(points.map((p) => p.step)), { maxRows: 4, maxDelayMs: 60_000 });
    for (let step = 0; step < 10; step++) writer.write(point(step));
    await writer.flush();
    expect(batches).toEqual([[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]);
    expect(writer.pending).toBe(0);
  });

  it('commits after maxDelayMs when fewer than maxRows are waiting', async () => {
    vi.useFakeTimers();
    const batches: MetricInput[][] = [];
    const writer = new MetricWriter(async (points) => void batches.push(points), { maxRows: 1000, maxDelayMs: 250 });
    writer.write(point(1));
    writer.write(point(2));
    await vi.advanceTimersByTimeAsync(200);
    expect(batches).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(100);
    expect(batches).toHaveLength(1);
    expect(batches[0]).toHaveLength(2);
  });

  it('flushes on close and then refuses writes', async () => {
    const batches: MetricInput[][] = [];
    const writer = new MetricWriter(async (points) => void batches.push(points), { maxRows: 1000, maxDelayMs: 60_000 });
    writer.write(point(1));
    await writer.close();
    expect(batches.flat()).toHaveLength(1);
    expect(() => writer.write(point(2))).toThrow(/closed/);
  });

  it('validates each point at write time, naming the field', () => {
    const writer = new MetricWriter(async () => undefined);
    expect(() => writer.write({ ...point(1), value: Number.NaN })).toThrow(/value of loss must be a finite number/);
    expect(() => writer.write({ ...point(1), step: 1.5 })).toThrow(/step/);
    expect(() => writer.write({ ...point(1), runId: 0 })).toThrow(/runId/);
    expect(writer.pending).toBe(0);
  });

  it("keeps other runs' points when one run's points cannot be written", async () => {
    const data = tempDataDir('writer-');
    const errors: string[] = [];
    const store = openSqliteStore({ dataDir: data.dir, hooks: { onError: (message) => errors.push(message) }, writer: { maxRows: 1000 } });
    try {
      const kept = await store.runs.create({ config: {} });
      const deleted = await store.runs.create({ config: {} });
      store.metricWriter.write(point(1, kept.id));
      store.metricWriter.write(point(1, deleted.id));
      await store.runs.delete(deleted.id, { force: true });
      store.metricWriter.write(point(2, kept.id));
      await store.metricWriter.flush();
      expect((await store.metrics.series(kept.id, 'loss')).points.map((p) => p.step)).toEqual([1, 2]);
      expect(errors).toEqual([`Dropped 1 metric points of run ${deleted.id}: Run ${deleted.id} does not exist.`]);
    } finally {
      await store.close();
      data.remove();
    }
  });

  it('batches many points into few transactions in the SQLite store', async () => {
    const data = tempDataDir('writer-');
    const store = openSqliteStore({ dataDir: data.dir, writer: { maxRows: 500, maxDelayMs: 60_000 } });
    const append = vi.spyOn(store.metrics, 'append');
    try {
      const run = await store.runs.create({ config: {}, status: 'running' });
      for (let step = 0; step < 2000; step++) store.metricWriter.write(point(step, run.id));
      await store.close();
      expect(append).toHaveBeenCalledTimes(4);
    } finally {
      await store.close();
      data.remove();
    }
  });
});
