/**
 * Parallel coordinates layout: one vertical axis per chosen parameter and a
 * last one for the metric; each run is a polyline across them. Numeric
 * parameters get a linear axis over their range, anything else one evenly
 * spaced position per distinct value (sorted), so a string setting such as
 * the decoder variant reads as categories.
 */
import type { JsonPrimitive } from '../../../../shared/storeTypes';

export interface ParallelAxis {
  label: string;
  kind: 'number' | 'category';
  /** Tick labels from bottom to top. */
  ticks: Array<{ label: string; at: number }>;
}

export interface ParallelLine {
  runId: number;
  /** 0 (bottom) to 1 (top) on each axis; null where the run has no value. */
  positions: Array<number | null>;
  /** The metric value (for colour), null without one. */
  metric: number | null;
}

export interface ParallelLayout {
  axes: ParallelAxis[];
  lines: ParallelLine[];
  /** Metric range for the colour scale. */
  metricRange: [number, number] | null;
}

export interface ParallelInput {
  runIds: number[];
  /** One column per parameter: its path and one value per run. */
  parameters: Array<{ path: string; values: JsonPrimitive[] }>;
  metric: { label: string; values: Array<number | null> };
}

const label = (value: JsonPrimitive) => (typeof value === 'string' ? value : JSON.stringify(value));

function numericAxis(title: string, values: ReadonlyArray<number | null>): { axis: ParallelAxis; at: (value: number | null) => number | null } {
  const present = values.filter((value): value is number => value !== null && Number.isFinite(value));
  const low = present.length ? Math.min(...present) : 0;
  const high = present.length ? Math.max(...present) : 1;
  const span = high - low;
  const at = (value: number | null) => (value === null || !Number.isFinite(value) ? null : span === 0 ? 0.5 : (value - low) / span);
  const ticks = span === 0 ? [{ label: formatTick(low), at: 0.5 }] : [0, 0.25, 0.5, 0.75, 1].map((t) => ({ label: formatTick(low + t * span), at: t }));
  return { axis: { label: title, kind: 'number', ticks }, at };
}

function formatTick(value: number): string {
  if (value !== 0 && (Math.abs(value) < 1e-3 || Math.abs(value) >= 1e5)) return value.toExponential(1);
  return String(Number(value.toPrecision(3)));
}

export function layoutParallel(input: ParallelInput): ParallelLayout {
  const axes: ParallelAxis[] = [];
  const columns: Array<Array<number | null>> = [];
  for (const parameter of input.parameters) {
    const present = parameter.values.filter((value) => value !== null);
    if (present.length > 0 && present.every((value) => typeof value === 'number')) {
      const { axis, at } = numericAxis(parameter.path, parameter.values as Array<number | null>);
      axes.push(axis);
      columns.push(parameter.values.map((value) => at(value as number | null)));
    } else {
      const categories = [...new Set(present.map(label))].sort();
      const at = (value: JsonPrimitive) => {
        if (value === null) return null;
        return categories.length === 1 ? 0.5 : categories.indexOf(label(value)) / (categories.length - 1);
      };
      axes.push({ label: parameter.path, kind: 'category', ticks: categories.map((category) => ({ label: category, at: at(category)! })) });
      columns.push(parameter.values.map(at));
    }
  }
  const metric = numericAxis(input.metric.label, input.metric.values);
  axes.push(metric.axis);
  columns.push(input.metric.values.map(metric.at));
  const present = input.metric.values.filter((value): value is number => value !== null);
  return {
    axes,
    lines: input.runIds.map((runId, index) => ({
      runId,
      positions: columns.map((column) => column[index] ?? null),
      metric: input.metric.values[index] ?? null,
    })),
    metricRange: present.length ? [Math.min(...present), Math.max(...present)] : null,
  };
}
