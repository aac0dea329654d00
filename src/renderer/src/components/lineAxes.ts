/**
 * The axes every chart.js line chart here shares (live curves, the compare
 * page's curves): linear x with its label, linear or log y, the theme's
 * colours, and y labels thinned on log axes so they stay readable.
 */
import { AXIS_COLOR, GRID_COLOR, tickText } from './chartTheme';

export { LEGEND_COLOR } from './chartTheme';

/**
 * A linear axis through zero can place its zero tick at 1e-13 or so (float
 * steps adding up); a value that small next to the axis span is zero.
 */
export function snapNoiseToZero(value: number, span: number): number {
  return span > 0 && Math.abs(value) < span * 1e-9 ? 0 : value;
}

/**
 * A log axis over a decade or more labels 1, 2 and 5 of each decade; a
 * narrower one every n-th tick, at most six labels. Either way every grid
 * line stays (chart.js's own skipping must be off, or it drops the chosen ones).
 */
export function yTickLabel(logY: boolean, value: number, index: number, ticks: ReadonlyArray<{ value: number }>): string {
  const low = ticks[0]?.value ?? value;
  const high = ticks[ticks.length - 1]?.value ?? value;
  if (!logY || value <= 0) return tickText(snapNoiseToZero(value, Math.abs(high - low)));
  if (low > 0 && high / low >= 10) {
    const mantissa = value / 10 ** Math.floor(Math.log10(value) + 1e-9);
    return [1, 2, 5].some((label) => Math.abs(mantissa - label) < 1e-6) ? tickText(value) : '';
  }
  return index % Math.max(1, Math.ceil(ticks.length / 6)) === 0 ? tickText(value) : '';
}

/**
 * A linear y range narrower than `minSpan` widened upwards to it: BLEU of an
 * untrained model sits at 1e-13 (its smoothing), which chart.js would stretch
 * over the whole axis as if it moved; against a span that means something
 * for the metric it lies on zero.
 */
export function widenTinyRange(range: { min: number; max: number }, minSpan: number): { min: number; max: number } {
  if (!(minSpan > 0) || range.max - range.min >= minSpan) return range;
  return { min: range.min, max: range.min + minSpan };
}

/** chart.js `scales` for a line chart; `logY()` is read when labels are drawn, so toggling it needs no rebuild of the callback. */
export function lineScales(options: { xLabel: string; logY: () => boolean; integerX?: boolean; minSpanY?: number }) {
  return {
    x: {
      type: 'linear' as const,
      title: { display: true, text: options.xLabel, color: AXIS_COLOR },
      ticks: { color: AXIS_COLOR, precision: options.integerX ? 0 : undefined },
      grid: { color: GRID_COLOR },
    },
    y: {
      type: options.logY() ? ('logarithmic' as const) : ('linear' as const),
      ticks: {
        color: AXIS_COLOR,
        autoSkip: !options.logY(),
        callback: (value: number | string, index: number, ticks: ReadonlyArray<{ value: number }>) => yTickLabel(options.logY(), Number(value), index, ticks),
      },
      afterDataLimits: (axis: { min: number; max: number }) => {
        if (options.logY() || options.minSpanY === undefined) return;
        Object.assign(axis, widenTinyRange(axis, options.minSpanY));
      },
      grid: { color: GRID_COLOR },
    },
  };
}
