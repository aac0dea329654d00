/**
 * Curves of many runs on one axis. Each run's own curve is its stored series
 * (reduced with LTTB to `maxPoints`), by step, by epoch (the value at the
 * last step of each epoch) or by seconds since the run started. Groups get a
 * band computed on one shared x per group: the store's aligned steps or
 * epochs, or equal-width time bins, so replicates line up point by point.
 */
import type { CompareCurves, CurveAxis, CurveGrouping, GroupBand, MetricCurves, RunCurve, RunGroup } from '../../shared/contract/compare';
import { metricGoal } from '../../shared/metricGoal';
import type { MetricPoint, RunRecord } from '../../shared/storeTypes';
import type { ExperimentStore } from '../store';
import { bandOf, bucketRows, type AlignedRows } from './bands';
import { groupRuns } from './grouping';

/** How many stored points per time bin a band is computed from, at most. */
const BAND_SOURCE_FACTOR = 20;

export interface CurvesRequest {
  keys?: string[] | undefined;
  axis: CurveAxis;
  maxPoints: number;
  group?: CurveGrouping | undefined;
}

/** The zero of a run's time axis: when it started, else its first logged point. */
function timeOrigin(run: RunRecord, series: ReadonlyArray<readonly MetricPoint[]>): number {
  if (run.startedAt) return Date.parse(run.startedAt);
  let first = Infinity;
  for (const points of series) if (points.length && points[0]!.time < first) first = points[0]!.time;
  return first === Infinity ? 0 : first;
}

async function keysOf(store: ExperimentStore, runIds: readonly number[]): Promise<string[]> {
  const all = new Set<string>();
  for (const runId of runIds) for (const key of await store.metrics.keys(runId)) all.add(key);
  return [...all].sort();
}

/** Drops the x positions where the run has no value (the aligned table's nulls). */
function curveFromAligned(runId: number, x: readonly number[], values: ReadonlyArray<number | null>, reduced: boolean): RunCurve {
  const curve: RunCurve = { runId, x: [], y: [], reduced };
  values.forEach((value, index) => {
    if (value === null) return;
    curve.x.push(x[index]!);
    curve.y.push(value);
  });
  return curve;
}

export async function compareCurves(store: ExperimentStore, runs: readonly RunRecord[], request: CurvesRequest): Promise<CompareCurves> {
  const runIds = runs.map((run) => run.id);
  const keys = request.keys ?? (await keysOf(store, runIds));
  const groups: RunGroup[] = request.group ? groupRuns(runs, request.group) : [];

  // Wall time needs every key's series first: a run's time origin is shared by all its keys.
  const seriesByKey = new Map<string, MetricPoint[][]>();
  const reducedByKey = new Map<string, boolean[]>();
  if (request.axis !== 'epoch') {
    for (const key of keys) {
      const series = await Promise.all(runIds.map((runId) => store.metrics.series(runId, key, { maxPoints: request.maxPoints })));
      seriesByKey.set(key, series.map((entry) => entry.points));
      reducedByKey.set(key, series.map((entry) => entry.downsampled));
    }
  }
  const origins = runs.map((run, index) => timeOrigin(run, keys.map((key) => seriesByKey.get(key)?.[index] ?? [])));
  const xOf = (point: MetricPoint, runIndex: number) => (request.axis === 'time' ? (point.time - origins[runIndex]!) / 1000 : point.step);

  const metrics: MetricCurves[] = [];
  for (const key of keys) {
    let curves: RunCurve[];
    if (request.axis === 'epoch') {
      const aligned = await store.metrics.aligned(runIds, key, 'epoch', request.maxPoints);
      curves = runIds.map((runId, index) => curveFromAligned(runId, aligned.x, aligned.values[index]!, aligned.bucketed));
    } else {
      const reduced = reducedByKey.get(key)!;
      curves = seriesByKey.get(key)!.map((points, index) => ({
        runId: runIds[index]!,
        x: points.map((point) => xOf(point, index)),
        y: points.map((point) => point.value),
        reduced: reduced[index]!,
      }));
    }
    const bands: GroupBand[] = [];
    for (const group of groups) {
      let rows: AlignedRows;
      if (request.axis === 'time') {
        // Bin means come from the stored points (up to BAND_SOURCE_FACTOR per bin), not from the reduced curves.
        const members = await Promise.all(
          group.runIds.map(async (runId) => {
            const index = runIds.indexOf(runId);
            const { points } = await store.metrics.series(runId, key, { maxPoints: request.maxPoints * BAND_SOURCE_FACTOR });
            return { x: points.map((point) => xOf(point, index)), y: points.map((point) => point.value) };
          }),
        );
        rows = bucketRows(members, request.maxPoints);
      } else {
        rows = await store.metrics.aligned(group.runIds, key, request.axis, request.maxPoints);
      }
      bands.push(bandOf(group.label, group.runIds, rows));
    }
    metrics.push({ key, goal: metricGoal(key), runs: curves, bands });
  }
  return { axis: request.axis, runs: runs.map((run) => ({ id: run.id, name: run.name })), groups, metrics };
}
