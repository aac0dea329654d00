import { describe, expect, it } from 'vitest';
import { lineScales, snapNoiseToZero, widenTinyRange, yTickLabel } from '../../src/renderer/src/components/lineAxes';

const ticksAt = (values: number[]) => values.map((value) => ({ value }));

describe('line chart axes', () => {
  it('labels 1, 2 and 5 of each decade on a log axis spanning decades, and leaves the other grid lines blank', () => {
    const values = [0.01, 0.02, 0.03, 0.05, 0.07, 0.1, 0.2, 0.3, 0.5, 1];
    const ticks = ticksAt(values);
    const labels = values.map((value, index) => yTickLabel(true, value, index, ticks));
    expect(labels).toEqual(['0.01', '0.02', '', '0.05', '', '0.1', '0.2', '', '0.5', '1']);
  });

  it('labels at most about six ticks of a narrow log axis, and every tick of a linear one', () => {
    const values = Array.from({ length: 12 }, (_, index) => 2 + index * 0.25);
    const ticks = ticksAt(values);
    const logLabels = values.map((value, index) => yTickLabel(true, value, index, ticks)).filter(Boolean);
    expect(logLabels.length).toBeLessThanOrEqual(6);
    expect(logLabels[0]).toBe('2');
    expect(values.map((value, index) => yTickLabel(false, value, index, ticks)).every(Boolean)).toBe(true);
  });

  it('writes tiny values in exponent form', () => {
    expect(yTickLabel(false, 0.00012, 0, ticksAt([0.00012]))).toBe('1.2e-4');
  });

  it('reads float noise around zero as 0 on a linear axis, but keeps genuinely tiny values', () => {
    const values = [-0.02, -0.01, 1.3e-13, 0.01, 0.02];
    const ticks = ticksAt(values);
    expect(values.map((value, index) => yTickLabel(false, value, index, ticks))[2]).toBe('0');
    expect(snapNoiseToZero(1.3e-13, 0.04)).toBe(0);
    expect(snapNoiseToZero(2e-6, 1e-5)).toBe(2e-6);
    const tiny = ticksAt([0, 2e-6, 4e-6]);
    expect(yTickLabel(false, 2e-6, 1, tiny)).toBe('2.0e-6');
  });

  it('widens a score axis whose values differ by float noise only, on linear axes', () => {
    expect(widenTinyRange({ min: 0, max: 2.2e-13 }, 0.01)).toEqual({ min: 0, max: 0.01 });
    expect(widenTinyRange({ min: 0.2, max: 0.35 }, 0.01)).toEqual({ min: 0.2, max: 0.35 });
    let log = false;
    const scales = lineScales({ xLabel: 'epoch', logY: () => log, minSpanY: 0.01 });
    const axis = { min: 1.3e-13, max: 2.2e-13 };
    scales.y.afterDataLimits(axis);
    expect(axis).toEqual({ min: 1.3e-13, max: 0.01 + 1.3e-13 });
    log = true;
    const logAxis = { min: 1e-4, max: 2e-4 };
    scales.y.afterDataLimits(logAxis);
    expect(logAxis).toEqual({ min: 1e-4, max: 2e-4 });
  });

  it('reads the log switch when drawn, and keeps whole-number x ticks for steps and epochs', () => {
    let log = false;
    const scales = lineScales({ xLabel: 'step', logY: () => log, integerX: true });
    expect(scales.x.ticks.precision).toBe(0);
    expect(scales.x.title.text).toBe('step');
    const ticks = ticksAt([0.01, 0.03, 0.1, 1]);
    expect(scales.y.ticks.callback(0.03, 1, ticks)).toBe('0.03');
    log = true;
    expect(scales.y.ticks.callback(0.03, 1, ticks)).toBe('');
  });
});
