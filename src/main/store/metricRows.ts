/** Metric points as both stores take them in and announce them: the checks of a batch, and the per-run batches the hook hears. */
import type { MetricBatch, MetricInput } from '../../shared/storeTypes';
import { notify } from './context';
import type { StoreHooks } from './storage';
import { requireCount, requireFinite, requireId, requireText } from './validate';

/** Checks every point before any is written, naming the bad one; returns the runs the batch touches. */
export function requireMetricPoints(points: MetricInput[]): number[] {
  points.forEach((point, index) => {
    requireId(point.runId, `points[${index}].runId`);
    requireText(point.key, `points[${index}].key`, 200);
    requireCount(point.step, `points[${index}].step`);
    requireCount(point.epoch, `points[${index}].epoch`);
    requireFinite(point.value, `points[${index}].value (${point.key})`);
    if (point.time !== undefined) requireFinite(point.time, `points[${index}].time`);
  });
  return [...new Set(points.map((point) => point.runId))];
}

/** After the commit: one `onMetrics` call per run, its points as stored (time defaulting to `now`). */
export function announceMetrics(hooks: StoreHooks, points: MetricInput[], runIds: number[], now: number): void {
  if (!hooks.onMetrics) return;
  for (const runId of runIds) {
    const batch: MetricBatch = {
      runId,
      points: points
        .filter((point) => point.runId === runId)
        .map((point) => ({ key: point.key, step: point.step, epoch: point.epoch, value: point.value, time: Math.round(point.time ?? now) })),
    };
    notify(hooks.onMetrics, batch);
  }
}
