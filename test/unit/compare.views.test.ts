/** The compare page's drawing helpers: curve smoothing, log-axis filtering, parallel-coordinates layout, colours. */
import { describe, expect, it } from 'vitest';
import { layoutParallel } from '../../src/renderer/src/pages/compare/parallel';
import { runColor, withAlpha } from '../../src/renderer/src/pages/compare/palette';
import { positivePoints, smooth } from '../../src/renderer/src/pages/compare/smoothing';

describe('smooth', () => {
  it('is the identity at weight 0 and a debiased moving average above', () => {
    expect(smooth([1, 5, 3], 0)).toEqual([1, 5, 3]);
    // Debiasing keeps the first point where it is, and a constant curve constant.
    expect(smooth([4, 4, 4, 4], 0.9).every((value) => Math.abs(value - 4) < 1e-12)).toBe(true);
    const [first, second] = smooth([0, 10], 0.5);
    expect(first).toBe(0);
    // (0.5·(0.5·0) + 0.5·10) / (1 − 0.25) = 5 / 0.75
    expect(second).toBeCloseTo(5 / 0.75, 12);
  });

  it('refuses a weight outside [0, 1)', () => {
    expect(() => smooth([1], 1)).toThrow(/\[0, 1\)/);
    expect(() => smooth([1], -0.1)).toThrow();
  });

  it('drops points a log axis cannot show', () => {
    expect(positivePoints([{ x: 0, y: 0 }, { x: 1, y: -1 }, { x: 2, y: 0.5 }])).toEqual([{ x: 2, y: 0.5 }]);
  });
});

describe('layoutParallel', () => {
  it('puts numbers on a linear axis, other values on categories, the metric last', () => {
    const layout = layoutParallel({
      runIds: [1, 2, 3],
      parameters: [
        { path: 'decoder.units', values: [128, 256, 512] },
        { path: 'decoder.variant', values: ['merge', 'attention', 'merge'] },
        { path: 'training.lr', values: [0.001, 0.001, null] },
      ],
      metric: { label: 'val/ciderD (best)', values: [0.5, 1.5, null] },
    });
    expect(layout.axes.map((axis) => [axis.label, axis.kind])).toEqual([
      ['decoder.units', 'number'],
      ['decoder.variant', 'category'],
      ['training.lr', 'number'],
      ['val/ciderD (best)', 'number'],
    ]);
    expect(layout.axes[1]!.ticks).toEqual([
      { label: 'attention', at: 0 },
      { label: 'merge', at: 1 },
    ]);
    const [first, second, third] = layout.lines;
    expect(first!.positions).toEqual([0, 1, 0.5, 0]);
    expect(second!.positions).toEqual([128 / 384, 0, 0.5, 1]);
    expect(third!.positions).toEqual([1, 1, null, null]);
    expect(layout.metricRange).toEqual([0.5, 1.5]);
  });

  it('copes with runs that have no metric at all', () => {
    const layout = layoutParallel({ runIds: [1], parameters: [], metric: { label: 'm', values: [null] } });
    expect(layout.axes).toHaveLength(1);
    expect(layout.lines[0]!.positions).toEqual([null]);
    expect(layout.metricRange).toBeNull();
  });
});

describe('palette', () => {
  it('gives fifty runs fifty different colours and makes translucent fills', () => {
    expect(new Set(Array.from({ length: 50 }, (_, index) => runColor(index))).size).toBe(50);
    expect(withAlpha('#ff8000', 0.5)).toBe('rgba(255, 128, 0, 0.5)');
    expect(withAlpha('hsl(10 70% 65%)', 0.2)).toBe('hsl(10 70% 65% / 0.2)');
  });
});
