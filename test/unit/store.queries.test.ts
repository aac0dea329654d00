/** Pure pieces behind the compare page: config differences, series alignment, metric goals. */
import { describe, expect, it } from 'vitest';
import { alignSeries } from '../../src/main/store/align';
import { diffConfigs, flattenConfig } from '../../src/main/store/configDiff';
import { metricGoal } from '../../src/shared/metricGoal';

describe('flattenConfig', () => {
  it('flattens nested objects and arrays to dotted paths', () => {
    const flat = flattenConfig({ model: { kind: 'merge', units: [256, 512] }, lr: 1e-3, tags: [], extra: {}, none: null });
    expect([...flat.entries()]).toEqual([
      ['model.kind', 'merge'],
      ['model.units.0', 256],
      ['model.units.1', 512],
      ['lr', 0.001],
      ['tags', '[]'],
      ['extra', '{}'],
      ['none', null],
    ]);
  });
});

describe('diffConfigs', () => {
  it('lists only differing or missing paths, sorted, with values in run order', () => {
    const diff = diffConfigs([
      { runId: 1, config: { model: { units: 256, dropout: 0.3 }, batchSize: 32, beam: { size: 3 } } },
      { runId: 2, config: { model: { units: 512, dropout: 0.3 }, batchSize: 32 } },
      { runId: 3, config: { model: { units: 256, dropout: 0.3 }, batchSize: 64, beam: { size: 3 } } },
    ]);
    expect(diff).toEqual([
      { path: 'batchSize', values: [32, 32, 64], missingIn: [] },
      { path: 'beam.size', values: [3, null, 3], missingIn: [2] },
      { path: 'model.units', values: [256, 512, 256], missingIn: [] },
    ]);
  });

  it('tells a null value from a missing one, and finds nothing between equal configs', () => {
    expect(diffConfigs([{ runId: 1, config: { a: null } }, { runId: 2, config: {} }])).toEqual([{ path: 'a', values: [null, null], missingIn: [2] }]);
    expect(diffConfigs([{ runId: 1, config: { a: { b: [1] } } }, { runId: 2, config: { a: { b: [1] } } }])).toEqual([]);
    expect(diffConfigs([{ runId: 1, config: { a: 1 } }])).toEqual([]);
  });
});

describe('alignSeries', () => {
  it('puts exact values on the union of x when it fits', () => {
    const aligned = alignSeries([{ xs: [0, 2], ys: [1, 2] }, { xs: [1, 2], ys: [3, 4] }], 10);
    expect(aligned).toEqual({ x: [0, 1, 2], values: [[1, null, 2], [null, 3, 4]], bucketed: false });
  });

  it('averages into equal-width buckets when the union is too long', () => {
    const xs = Array.from({ length: 100 }, (_, index) => index);
    const aligned = alignSeries([{ xs, ys: xs }, { xs: [0, 99], ys: [10, 20] }], 4);
    expect(aligned.bucketed).toBe(true);
    expect(aligned.x).toEqual([12.375, 37.125, 61.875, 86.625]);
    // Buckets of width 24.75: steps 0..24, 25..49, 50..74, 75..99.
    expect(aligned.values[0]).toEqual([12, 37, 62, 87]);
    expect(aligned.values[1]).toEqual([10, null, null, 20]);
  });

  it('refuses fewer than two points', () => {
    expect(() => alignSeries([], 1)).toThrow(/maxPoints/);
  });
});

describe('metricGoal', () => {
  it('minimises losses and maximises scores', () => {
    expect(metricGoal('train/loss')).toBe('min');
    expect(metricGoal('val/perplexity')).toBe('min');
    expect(metricGoal('val/bleu4')).toBe('max');
    expect(metricGoal('val/CIDEr-D')).toBe('max');
    expect(metricGoal('shapes/accuracy')).toBe('max');
  });
});
