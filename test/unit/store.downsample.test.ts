/** LTTB downsampling for charts of long runs. */
import { describe, expect, it } from 'vitest';
import { lttb, lttbIndices } from '../../src/main/store/downsample';

function range(length: number): number[] {
  return Array.from({ length }, (_, index) => index);
}

describe('lttbIndices', () => {
  it('keeps every point when there are no more than the threshold', () => {
    expect(lttbIndices([0, 1, 2], [5, 6, 7], 10)).toEqual([0, 1, 2]);
    expect(lttbIndices([0, 1, 2], [5, 6, 7], 3)).toEqual([0, 1, 2]);
    expect(lttbIndices([], [], 10)).toEqual([]);
    expect(lttbIndices([4], [1], 1)).toEqual([0]);
  });

  it('keeps exactly threshold points, ascending, with the first and last', () => {
    const xs = range(10_000);
    const ys = xs.map((x) => Math.sin(x / 50) + 0.001 * ((x * 7919) % 13));
    const kept = lttbIndices(xs, ys, 1000);
    expect(kept).toHaveLength(1000);
    expect(kept[0]).toBe(0);
    expect(kept.at(-1)).toBe(9999);
    for (let index = 1; index < kept.length; index++) expect(kept[index]).toBeGreaterThan(kept[index - 1] as number);
  });

  it('keeps a single spike and a single dip that averaging would flatten', () => {
    const xs = range(5000);
    const ys = xs.map(() => 1);
    ys[1234] = 50;
    ys[3210] = -40;
    const kept = lttbIndices(xs, ys, 100);
    expect(kept).toContain(1234);
    expect(kept).toContain(3210);
    const keptValues = kept.map((index) => ys[index] as number);
    expect(Math.max(...keptValues)).toBe(50);
    expect(Math.min(...keptValues)).toBe(-40);
  });

  it('keeps the extremes of a noisy decaying loss curve within tolerance', () => {
    const xs = range(20_000);
    let seed = 1;
    const random = () => ((seed = (seed * 16807) % 2147483647) / 2147483647);
    const ys = xs.map((x) => 3 * Math.exp(-x / 4000) + 0.2 * random());
    const kept = lttbIndices(xs, ys, 500).map((index) => ys[index] as number);
    const spread = Math.max(...ys) - Math.min(...ys);
    expect(Math.max(...ys) - Math.max(...kept)).toBeLessThan(0.05 * spread);
    expect(Math.min(...kept) - Math.min(...ys)).toBeLessThan(0.05 * spread);
  });

  it('handles the smallest thresholds and refuses bad input', () => {
    expect(lttbIndices(range(10), range(10), 2)).toEqual([0, 9]);
    expect(lttbIndices(range(10), range(10), 1)).toEqual([9]);
    expect(lttbIndices(range(10), range(10), 0)).toEqual([]);
    expect(() => lttbIndices(range(3), range(2), 2)).toThrow(/3 x values but 2 y values/);
    expect(() => lttbIndices(range(3), range(3), 1.5)).toThrow(/threshold/);
  });
});

describe('lttb on objects', () => {
  it('returns the chosen objects themselves', () => {
    const points = range(100).map((step) => ({ step, value: step === 40 ? 100 : 0 }));
    const kept = lttb(points, 10, (point) => point.step, (point) => point.value);
    expect(kept).toHaveLength(10);
    expect(kept).toContain(points[40]);
    expect(kept[0]).toBe(points[0]);
    expect(kept.at(-1)).toBe(points[99]);
  });
});
