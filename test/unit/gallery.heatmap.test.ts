/** Heatmap pixels from attention weights: the raw grid is the weights, smoothing keeps the hot spot where it was. */
import { describe, expect, it } from 'vitest';
import { gaussianBlur, heatColor, heatmapRgba, scaleForDisplay, upsample } from '../../src/shared/heatmap';

describe('heatmaps', () => {
  it('the raw grid shows each region as one flat block of its own weight', () => {
    const weights = [0.1, 0.2, 0.3, 0.4, 0.0, 0.0];
    const out = upsample(weights, 2, 3, 6, 4, false);
    for (let y = 0; y < 4; y++) {
      for (let x = 0; x < 6; x++) expect(out[y * 6 + x]).toBeCloseTo(weights[Math.floor(y / 2) * 3 + Math.floor(x / 2)]!, 6);
    }
  });

  it('smoothing interpolates between region centres and keeps the peak in the hot region', () => {
    const weights = new Array(49).fill(0);
    weights[2 * 7 + 5] = 1; // row 2, column 5
    const size = 70;
    const smooth = gaussianBlur(upsample(weights, 7, 7, size, size, true), size, size, 5);
    let best = 0;
    for (let i = 1; i < smooth.length; i++) if (smooth[i]! > smooth[best]!) best = i;
    expect(Math.floor(Math.floor(best / size) / 10)).toBe(2);
    expect(Math.floor((best % size) / 10)).toBe(5);
    // Values vary gradually: no jump bigger than a fraction of the peak between neighbours.
    for (let x = 1; x < size; x++) expect(Math.abs(smooth[25 * size + x]! - smooth[25 * size + x - 1]!)).toBeLessThan(0.2 * smooth[best]!);
  });

  it('scales to the largest weight (but keeps nearly uniform maps flat), colours from dark to bright, more opaque where attention is high', () => {
    const peaked = [0.05, 0.8, 0.1, 0.05];
    expect(scaleForDisplay(peaked)).toEqual(peaked.map((w) => w / 0.8));
    // 49 regions, all about 1/49: scaled by 3/49, not stretched to full colour.
    const flat = Array.from({ length: 49 }, (_, i) => (i === 0 ? 1.2 / 49 : (1 - 1.2 / 49) / 48));
    const shown = scaleForDisplay(flat);
    expect(Math.max(...shown)).toBeCloseTo(0.4, 6);
    expect(Math.max(...shown) - Math.min(...shown)).toBeLessThan(0.1);
    expect(scaleForDisplay([0, 0])).toEqual([0, 0]);
    const dark = heatColor(0);
    const bright = heatColor(1);
    expect(dark[0] + dark[1] + dark[2]).toBeLessThan(bright[0] + bright[1] + bright[2]);
    const rgba = heatmapRgba([1, 0, 0, 0], { rows: 2, cols: 2 }, 4, 4, { smooth: false });
    expect(rgba).toHaveLength(64);
    expect(rgba[3]).toBeGreaterThan(rgba[4 * 15 + 3]!);
    expect(() => heatmapRgba([1, 0, 0], { rows: 2, cols: 2 }, 4, 4, { smooth: false })).toThrow(/3 weights, but the grid is 2×2/);
  });
});
