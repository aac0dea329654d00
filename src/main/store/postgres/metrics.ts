/**
 * Metric points in PostgreSQL: batched upserts (one statement per batch),
 * series read by step and reduced with LTTB for charts, best/last summaries
 * and series aligned across runs.
 */
import { metricGoal } from '../../../shared/metricGoal';
import type {
  AlignedSeries,
  CompareAxis,
  MetricGoal,
  MetricInput,
  MetricPoint,
  MetricSeries,
  MetricSummary,
} from '../../../shared/storeTypes';
import { alignSeries } from '../align';
import { announceMetrics, requireMetricPoints } from '../metricRows';
import { lttbIndices } from '../downsample';
import { DEFAULT_MAX_POINTS } from '../metrics';
import type { MetricRequest, MetricStore, SeriesOptions } from '../storage';
import { notFound, requireId, requireIntegerIn } from '../validate';
import type { PgContext } from './context';

interface PointRow {
  step: number;
  epoch: number;
  value: number;
  time: number;
}

const toPoint = (row: PointRow): MetricPoint => ({ step: row.step, epoch: row.epoch, value: row.value, time: row.time });

export class PgMetricStore implements MetricStore {
  constructor(private readonly context: PgContext) {}

  private get sql() {
    return this.context.db.sql;
  }

  async append(points: MetricInput[]): Promise<void> {
    if (points.length === 0) return;
    const now = this.context.clock();
    const runIds = requireMetricPoints(points);
    // The last of several points for one (run, key, step) in a batch wins, as
    // with SQLite's one upsert per point (one INSERT cannot touch a row twice).
    const latest = new Map<string, MetricInput>();
    for (const point of points) latest.set(`${point.runId}\u0000${point.key}\u0000${point.step}`, point);
    const unique = [...latest.values()];
    await this.context.db.transaction(async (sql) => {
      const existing = await sql.column<number>('SELECT id FROM runs WHERE id = ANY(?)', [runIds]);
      for (const runId of runIds) if (!existing.includes(runId)) notFound('Run', runId);
      await sql.run(
        `INSERT INTO metrics (run_id, key, step, epoch, value, time)
         SELECT * FROM unnest(?::bigint[], ?::text[], ?::bigint[], ?::bigint[], ?::double precision[], ?::bigint[])
         ON CONFLICT (run_id, key, step) DO UPDATE SET epoch = excluded.epoch, value = excluded.value, time = excluded.time`,
        [
          unique.map((point) => point.runId),
          unique.map((point) => point.key),
          unique.map((point) => point.step),
          unique.map((point) => point.epoch),
          unique.map((point) => point.value),
          unique.map((point) => Math.round(point.time ?? now)),
        ],
      );
      // Metrics are a sign of life of whoever runs the run's task, and of its tuning trial's.
      await sql.run(
        `UPDATE tasks SET heartbeat_at = ?
          WHERE state IN ('running', 'stopping')
            AND id IN (SELECT task_id FROM runs WHERE id = ANY(?) UNION SELECT task_id FROM trials WHERE run_id = ANY(?))`,
        [now, runIds, runIds],
      );
    });
    announceMetrics(this.context.hooks, points, runIds, now);
  }

  async keys(runId: number): Promise<string[]> {
    await this.requireRun(runId);
    const keys = await this.sql.column<string>('SELECT DISTINCT key FROM metrics WHERE run_id = ?', [runId]);
    return keys.sort();
  }

  async series(runId: number, key: string, options: SeriesOptions = {}): Promise<MetricSeries> {
    await this.requireRun(runId);
    const maxPoints = options.maxPoints ?? DEFAULT_MAX_POINTS;
    requireIntegerIn(maxPoints, 'maxPoints', 2, 1_000_000);
    const range = [runId, key, options.fromStep ?? 0, options.toStep ?? Number.MAX_SAFE_INTEGER];
    const rows = await this.sql.all<PointRow>(
      'SELECT step, epoch, value, time FROM metrics WHERE run_id = ? AND key = ? AND step BETWEEN ? AND ? ORDER BY step',
      range,
    );
    if (rows.length <= maxPoints) return { runId, key, points: rows.map(toPoint), totalPoints: rows.length, downsampled: false };
    const xs = new Float64Array(rows.length);
    const ys = new Float64Array(rows.length);
    rows.forEach((row, index) => {
      xs[index] = row.step;
      ys[index] = row.value;
    });
    const points = lttbIndices(xs, ys, maxPoints).map((index) => toPoint(rows[index] as PointRow));
    return { runId, key, points, totalPoints: rows.length, downsampled: true };
  }

  async all(runId: number): Promise<Record<string, MetricPoint[]>> {
    await this.requireRun(runId);
    const result: Record<string, MetricPoint[]> = {};
    const rows = await this.sql.all<PointRow & { key: string }>('SELECT key, step, epoch, value, time FROM metrics WHERE run_id = ? ORDER BY key COLLATE "C", step', [runId]);
    for (const row of rows) (result[row.key] ??= []).push(toPoint(row));
    return result;
  }

  async summaries(runIds: number[], keys: MetricRequest[]): Promise<Map<number, MetricSummary[]>> {
    const result = new Map<number, MetricSummary[]>();
    for (const runId of runIds) {
      await this.requireRun(runId);
      const summaries: MetricSummary[] = [];
      for (const { key, goal } of keys) summaries.push(await this.summary(runId, key, goal ?? metricGoal(key)));
      result.set(runId, summaries);
    }
    return result;
  }

  async summaryOf(runId: number): Promise<MetricSummary[]> {
    const keys = await this.keys(runId);
    const summaries: MetricSummary[] = [];
    for (const key of keys) summaries.push(await this.summary(runId, key, metricGoal(key)));
    return summaries;
  }

  async aligned(runIds: number[], key: string, axis: CompareAxis, maxPoints: number): Promise<AlignedSeries> {
    for (const runId of runIds) await this.requireRun(runId);
    requireIntegerIn(maxPoints, 'maxPoints', 2, 1_000_000);
    const series = [];
    for (const runId of runIds) {
      // For epochs: the value at the last step logged in each epoch.
      const rows = await this.sql.all<{ x: number; value: number }>(
        axis === 'epoch'
          ? 'SELECT DISTINCT ON (epoch) epoch AS x, value FROM metrics WHERE run_id = ? AND key = ? ORDER BY epoch, step DESC'
          : 'SELECT step AS x, value FROM metrics WHERE run_id = ? AND key = ? ORDER BY step',
        [runId, key],
      );
      series.push({ xs: rows.map((row) => row.x), ys: rows.map((row) => row.value) });
    }
    return { key, axis, runIds: [...runIds], ...alignSeries(series, maxPoints) };
  }

  /** Best (earliest step on a tie), last and count in one statement. */
  private async summary(runId: number, key: string, goal: MetricGoal): Promise<MetricSummary> {
    const order = goal === 'min' ? 'ASC' : 'DESC';
    const row = await this.sql.one<{
      count: number;
      best_value: number | null;
      best_step: number | null;
      best_epoch: number | null;
      last_value: number | null;
      last_step: number | null;
      last_epoch: number | null;
    }>(
      `SELECT (SELECT COUNT(*) FROM metrics WHERE run_id = ? AND key = ?) AS count, b.value AS best_value, b.step AS best_step,
              b.epoch AS best_epoch, l.value AS last_value, l.step AS last_step, l.epoch AS last_epoch
         FROM (SELECT 1) AS one
         LEFT JOIN LATERAL (SELECT value, step, epoch FROM metrics WHERE run_id = ? AND key = ? ORDER BY value ${order}, step ASC LIMIT 1) b ON TRUE
         LEFT JOIN LATERAL (SELECT value, step, epoch FROM metrics WHERE run_id = ? AND key = ? ORDER BY step DESC LIMIT 1) l ON TRUE`,
      [runId, key, runId, key, runId, key],
    );
    const at = (value: number | null | undefined, step: number | null | undefined, epoch: number | null | undefined) =>
      value == null ? null : { value, step: step as number, epoch: epoch as number };
    return {
      key,
      goal,
      best: at(row?.best_value, row?.best_step, row?.best_epoch),
      last: at(row?.last_value, row?.last_step, row?.last_epoch),
      count: row?.count ?? 0,
    };
  }

  private async requireRun(runId: number): Promise<void> {
    requireId(runId, 'runId');
    if (!(await this.sql.one('SELECT 1 FROM runs WHERE id = ?', [runId]))) notFound('Run', runId);
  }
}
