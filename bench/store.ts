/**
 * `npm run bench -- store [rows] [points]`: the experiment store on a real
 * database file (WAL) in a temporary data directory.
 *
 * - insert: metric rows per second through the buffered writer (one
 *   transaction per 1,000 rows, as training logs them), through `append` in
 *   batches of 1,000, and one transaction per row (what batching avoids).
 * - read: time to read a 100k-point series and reduce it to 1,000 points
 *   with LTTB (what a chart of a long run asks for), the raw read alone, and
 *   a 3-run comparison aligned by step and by epoch.
 * Prints one JSON line per result.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSqliteStore } from '../src/main/store/sqliteStore';
import type { MetricInput } from '../src/shared/storeTypes';

function print(result: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify({ bench: 'store', ...result })}\n`);
}

function points(runId: number, count: number, key = 'train/loss'): MetricInput[] {
  return Array.from({ length: count }, (_, step) => ({
    runId,
    key,
    step,
    epoch: Math.floor(step / 1000),
    value: 3 * Math.exp(-step / 20_000) + 0.1 * Math.sin(step / 7),
    time: 1_700_000_000_000 + step,
  }));
}

/** Median seconds of `repeats` runs after one warm-up. */
async function timed(repeats: number, body: () => Promise<unknown>): Promise<number> {
  await body();
  const samples: number[] = [];
  for (let index = 0; index < repeats; index++) {
    const start = performance.now();
    await body();
    samples.push((performance.now() - start) / 1000);
  }
  samples.sort((a, b) => a - b);
  return samples[Math.floor(samples.length / 2)] as number;
}

function positive(text: string | undefined, fallback: number, name: string): number {
  const value = Number(text ?? fallback);
  if (!Number.isInteger(value) || value < 1) throw new Error(`${name} must be a positive integer (got "${text}").`);
  return value;
}

export async function run(args: string[]): Promise<void> {
  const rows = positive(args[0], 200_000, 'rows');
  const seriesPoints = positive(args[1], 100_000, 'points');
  const dir = mkdtempSync(join(tmpdir(), 'bench-store-'));
  const store = openSqliteStore({ dataDir: dir, writer: { maxRows: 1000, maxDelayMs: 1000 } });
  try {
    // ─── inserts ───
    const writerRun = await store.runs.create({ config: {}, status: 'running' });
    const writerRows = points(writerRun.id, rows);
    let start = performance.now();
    for (const point of writerRows) store.metricWriter.write(point);
    await store.metricWriter.flush();
    let seconds = (performance.now() - start) / 1000;
    print({ name: 'insert: buffered writer (1,000 rows per transaction)', rows, seconds: round(seconds), rowsPerSecond: Math.round(rows / seconds) });

    const batchRun = await store.runs.create({ config: {}, status: 'running' });
    const batchRows = points(batchRun.id, rows);
    start = performance.now();
    for (let offset = 0; offset < rows; offset += 1000) await store.metrics.append(batchRows.slice(offset, offset + 1000));
    seconds = (performance.now() - start) / 1000;
    print({ name: 'insert: append, 1,000 rows per call', rows, seconds: round(seconds), rowsPerSecond: Math.round(rows / seconds) });

    const singleRows = Math.min(rows, 5000);
    const singleRun = await store.runs.create({ config: {}, status: 'running' });
    const single = points(singleRun.id, singleRows);
    start = performance.now();
    for (const point of single) await store.metrics.append([point]);
    seconds = (performance.now() - start) / 1000;
    print({ name: 'insert: one transaction per row', rows: singleRows, seconds: round(seconds), rowsPerSecond: Math.round(singleRows / seconds) });

    // ─── reads ───
    const runIds: number[] = [];
    for (let index = 0; index < 3; index++) {
      const run = await store.runs.create({ config: { index } });
      for (let offset = 0; offset < seriesPoints; offset += 10_000) {
        await store.metrics.append(points(run.id, seriesPoints).slice(offset, offset + 10_000));
      }
      runIds.push(run.id);
    }
    const [first] = runIds as [number];
    const downsampled = await timed(5, () => store.metrics.series(first, 'train/loss', { maxPoints: 1000 }));
    print({ name: `read: ${seriesPoints}-point series downsampled to 1,000 (LTTB)`, points: seriesPoints, seconds: round(downsampled) });
    const raw = await timed(5, () => store.metrics.series(first, 'train/loss', { maxPoints: seriesPoints }));
    print({ name: `read: ${seriesPoints}-point series, every point`, points: seriesPoints, seconds: round(raw) });
    const byStep = await timed(3, () => store.metrics.aligned(runIds, 'train/loss', 'step', 1000));
    print({ name: `compare: 3 runs x ${seriesPoints} points aligned by step into 1,000 buckets`, points: 3 * seriesPoints, seconds: round(byStep) });
    const byEpoch = await timed(3, () => store.metrics.aligned(runIds, 'train/loss', 'epoch', 1000));
    print({ name: `compare: 3 runs x ${seriesPoints} points aligned by epoch`, points: 3 * seriesPoints, seconds: round(byEpoch) });
    const summaries = await timed(3, () => store.metrics.summaries(runIds, [{ key: 'train/loss' }]));
    print({ name: `runs list: best and last of 3 runs x ${seriesPoints} points`, points: 3 * seriesPoints, seconds: round(summaries) });
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

function round(seconds: number): number {
  return Number(seconds.toFixed(4));
}
