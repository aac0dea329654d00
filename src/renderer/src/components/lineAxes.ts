/**
 * The axes every chart.js line chart here shares (live curves, the compare
 * page's curves): linear x with its label, linear or log y, the theme's
 * colours, and y labels thinned on log axes so they stay readable.
 */
import { AXIS_COLOR, GRID_COLOR, tickText } from './chartTheme';

export { LEGEND_COLOR } from './chartTheme';

/**
 * A log axis over a decade or more labels 1, 2 and 5 of each decade; a
 * narrower one every n-th tick, at most six labels. Either way every grid
 * line stays (chart.js's own skipping must be off, or it drops the chosen ones).
 */
export function yTickLabel(logY: boolean, value: number, index: number, ticks: ReadonlyArray<{ value: number }>): string {
  if (!logY || value <= 0) return tickText(value);
  const low = ticks[0]?.value ?? value;
  const high = ticks[ticks.length - 1]?.value ?? value;
  if (low > 0 && high / low >= 10) {
    const mantissa = value / 10 ** Math.floor(Math.log10(value) + 1e-9);
    return [1, 2, 5].some((label) => Math.abs(mantissa - label) < 1e-6) ? tickText(value) : '';
  }
  return index % Math.max(1, Math.ceil(ticks.length / 6)) === 0 ? tickText(value) : '';
}

/** chart.js `scales` for a line chart; `logY()` is read when labels are drawn, so toggling it needs no rebuild of the callback. */
export function lineScales(options: { xLabel: string; logY: () => boolean; integerX?: boolean }) {
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
      grid: { color: GRID_COLOR },
    },
  };
}
