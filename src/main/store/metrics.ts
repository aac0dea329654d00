/**
 * Metric points in SQLite: batched upserts, series read by step and reduced
 * with LTTB for charts, best/last summaries and series aligned across runs.
 */
import { metricGoal } from '../../shared/metricGoal';
import type {
  AlignedSeries,
  CompareAxis,
  MetricGoal,
  MetricInput,
  MetricPoint,
  MetricSeries,
  MetricSummary,
  MetricValueAt,
} from '../../shared/storeTypes';
import { alignSeries } from './align';
import { announceMetrics, requireMetricPoints } from './metricRows';
import type { SqliteContext } from './context';
import { lttbIndices } from './downsample';
import type { MetricRequest, MetricStore, SeriesOptions } from './storage';
import { notFound, requireId, requireIntegerIn } from './validate';

export const DEFAULT_MAX_POINTS = 1000;

type RawPoint = [step: number, epoch: number, value: number, time: number];

const toPoint = (row: RawPoint): MetricPoint => ({ step: row[0], epoch: row[1], value: row[2], time: row[3] });

export class SqliteMetricStore implements MetricStore {
  constructor(private readonly context: SqliteContext) {}

  private get db() {
    return this.context.db;
  }

  async append(points: MetricInput[]): Promise<void> {
    if (points.length === 0) return;
    const now = this.context.clock();
    const runIds = requireMetricPoints(points);
    const insert = this.db.prepare(
      `INSERT INTO metrics (run_id, key, step, epoch, value, time) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (run_id, key, step) DO UPDATE SET epoch = excluded.epoch, value = excluded.value, time = excluded.time`,
    );
    const exists = this.db.prepare('SELECT 1 FROM runs WHERE id = ?').pluck();
    // Metrics are a sign of life of whoever runs the run's task, and of its tuning trial's.
    const beat = this.db.prepare(
      `UPDATE tasks SET heartbeat_at = ? WHERE id = (SELECT task_id FROM runs WHERE id = ?) AND state IN ('running', 'stopping')`,
    );
    const beatTrial = this.db.prepare(
      `UPDATE tasks SET heartbeat_at = ? WHERE id = (SELECT task_id FROM trials WHERE run_id = ?) AND state IN ('running', 'stopping')`,
    );
    this.db.transaction(() => {
      for (const runId of runIds) if (!exists.get(runId)) notFound('Run', runId);
      for (const point of points) {
        insert.run(point.runId, point.key, point.step, point.epoch, point.value, Math.round(point.time ?? now));
      }
      for (const runId of runIds) {
        beat.run(now, runId);
        beatTrial.run(now, runId);
      }
      // IMMEDIATE: it reads before it writes, which another connection's commit in between would make fail at once.
    }).immediate();
    announceMetrics(this.context.hooks, points, runIds, now);
  }

  async keys(runId: number): Promise<string[]> {
    this.requireRun(runId);
    return this.db.prepare('SELECT DISTINCT key FROM metrics WHERE run_id = ? ORDER BY key').pluck().all(runId) as string[];
  }

  async series(runId: number, key: string, options: SeriesOptions = {}): Promise<MetricSeries> {
    this.requireRun(runId);
    const maxPoints = options.maxPoints ?? DEFAULT_MAX_POINTS;
    requireIntegerIn(maxPoints, 'maxPoints', 2, 1_000_000);
    const from = options.fromStep ?? 0;
    const to = options.toStep ?? Number.MAX_SAFE_INTEGER;
    const range = [runId, key, from, to] as const;
    const count = this.db
      .prepare('SELECT COUNT(*) FROM metrics WHERE run_id = ? AND key = ? AND step BETWEEN ? AND ?')
      .pluck()
      .get(...range) as number;
    if (count <= maxPoints) {
      const rows = this.db
        .prepare('SELECT step, epoch, value, time FROM metrics WHERE run_id = ? AND key = ? AND step BETWEEN ? AND ? ORDER BY step')
        .raw()
        .all(...range) as RawPoint[];
      if (rows.length <= maxPoints) return { runId, key, points: rows.map(toPoint), totalPoints: rows.length, downsampled: false };
    }
    // Only the two columns LTTB needs: materialising rows is most of the
    // cost, so the kept points' other columns are fetched afterwards by key.
    const pairs = this.db
      .prepare('SELECT step, value FROM metrics WHERE run_id = ? AND key = ? AND step BETWEEN ? AND ? ORDER BY step')
      .raw()
      .all(...range) as Array<[number, number]>;
    const xs = new Float64Array(pairs.length);
    const ys = new Float64Array(pairs.length);
    pairs.forEach(([step, value], index) => {
      xs[index] = step;
      ys[index] = value;
    });
    const row = this.db.prepare('SELECT step, epoch, value, time FROM metrics WHERE run_id = ? AND key = ? AND step = ?').raw();
    const points = lttbIndices(xs, ys, maxPoints).map((index) => toPoint(row.get(runId, key, xs[index]) as RawPoint));
    return { runId, key, points, totalPoints: pairs.length, downsampled: true };
  }

  async all(runId: number): Promise<Record<string, MetricPoint[]>> {
    this.requireRun(runId);
    const result: Record<string, MetricPoint[]> = {};
    const rows = this.db
      .prepare('SELECT key, step, epoch, value, time FROM metrics WHERE run_id = ? ORDER BY key, step')
      .raw()
      .iterate(runId) as IterableIterator<[string, number, number, number, number]>;
    for (const [key, step, epoch, value, time] of rows) (result[key] ??= []).push({ step, epoch, value, time });
    return result;
  }

  async summaries(runIds: number[], keys: MetricRequest[]): Promise<Map<number, MetricSummary[]>> {
    const result = new Map<number, MetricSummary[]>();
    for (const runId of runIds) {
      this.requireRun(runId);
      result.set(
        runId,
        keys.map(({ key, goal }) => this.summary(runId, key, goal ?? metricGoal(key))),
      );
    }
    return result;
  }

  async summaryOf(runId: number): Promise<MetricSummary[]> {
    const keys = await this.keys(runId);
    return keys.map((key) => this.summary(runId, key, metricGoal(key)));
  }

  async aligned(runIds: number[], key: string, axis: CompareAxis, maxPoints: number): Promise<AlignedSeries> {
    for (const runId of runIds) this.requireRun(runId);
    requireIntegerIn(maxPoints, 'maxPoints', 2, 1_000_000);
    const series = runIds.map((runId) => {
      // For epochs: the value at the last step logged in each epoch (SQLite
      // takes bare columns from the row holding the MAX).
      const sql =
        axis === 'epoch'
          ? 'SELECT epoch, value, MAX(step) FROM metrics WHERE run_id = ? AND key = ? GROUP BY epoch ORDER BY epoch'
          : 'SELECT step, value FROM metrics WHERE run_id = ? AND key = ? ORDER BY step';
      const rows = this.db.prepare(sql).raw().all(runId, key) as Array<[number, number]>;
      return { xs: rows.map((row) => row[0]), ys: rows.map((row) => row[1]) };
    });
    const aligned = alignSeries(series, maxPoints);
    return { key, axis, runIds: [...runIds], ...aligned };
  }

  private summary(runId: number, key: string, goal: MetricGoal): MetricSummary {
    const order = goal === 'min' ? 'ASC' : 'DESC';
    const at = (sql: string) => {
      const row = this.db.prepare(sql).raw().get(runId, key) as [number, number, number] | undefined;
      return row ? ({ value: row[0], step: row[1], epoch: row[2] } satisfies MetricValueAt) : null;
    };
    const count = this.db.prepare('SELECT COUNT(*) FROM metrics WHERE run_id = ? AND key = ?').pluck().get(runId, key) as number;
    return {
      key,
      goal,
      best: at(`SELECT value, step, epoch FROM metrics WHERE run_id = ? AND key = ? ORDER BY value ${order}, step ASC LIMIT 1`),
      last: at('SELECT value, step, epoch FROM metrics WHERE run_id = ? AND key = ? ORDER BY step DESC LIMIT 1'),
      count,
    };
  }

  private requireRun(runId: number): void {
    requireId(runId, 'runId');
    if (!this.db.prepare('SELECT 1 FROM runs WHERE id = ?').get(runId)) notFound('Run', runId);
  }
}
