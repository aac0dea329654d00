/**
 * A group's band: its runs put on one x axis, then at every x the mean, the
 * lowest and the highest value over the runs that have one there.
 */
import type { GroupBand } from '../../shared/contract/compare';

export interface AlignedRows {
  x: number[];
  /** `values[run][i]` is that run's value at `x[i]`, null where it has none. */
  values: Array<Array<number | null>>;
}

/** Statistics per x; an x where no run has a value is left out. */
export function bandOf(label: string, runIds: number[], aligned: AlignedRows): GroupBand {
  const band: GroupBand = { label, runIds, x: [], mean: [], min: [], max: [], n: [] };
  aligned.x.forEach((x, i) => {
    let sum = 0;
    let n = 0;
    let low = Infinity;
    let high = -Infinity;
    for (const row of aligned.values) {
      const value = row[i];
      if (value === null || value === undefined) continue;
      sum += value;
      n++;
      if (value < low) low = value;
      if (value > high) high = value;
    }
    if (n === 0) return;
    band.x.push(x);
    band.mean.push(sum / n);
    band.min.push(low);
    band.max.push(high);
    band.n.push(n);
  });
  return band;
}

/**
 * Runs measured at unrelated x values (wall-clock seconds) on `buckets`
 * equal-width bins over their joint range, each run contributing the mean of
 * its points in a bin, so that runs can be compared bin by bin.
 */
export function bucketRows(series: ReadonlyArray<{ x: readonly number[]; y: readonly number[] }>, buckets: number): AlignedRows {
  let min = Infinity;
  let max = -Infinity;
  for (const { x } of series) {
    for (const value of x) {
      if (value < min) min = value;
      if (value > max) max = value;
    }
  }
  if (min === Infinity) return { x: [], values: series.map(() => []) };
  if (max === min) {
    return { x: [min], values: series.map(({ y }) => [y.length ? y.reduce((a, b) => a + b, 0) / y.length : null]) };
  }
  const width = (max - min) / buckets;
  const x = Array.from({ length: buckets }, (_, index) => min + (index + 0.5) * width);
  const values = series.map((run) => {
    const sums = new Float64Array(buckets);
    const counts = new Uint32Array(buckets);
    run.x.forEach((value, index) => {
      const bucket = Math.min(buckets - 1, Math.floor((value - min) / width));
      sums[bucket] = sums[bucket]! + run.y[index]!;
      counts[bucket] = counts[bucket]! + 1;
    });
    return Array.from(sums, (sum, index) => (counts[index]! > 0 ? sum / counts[index]! : null));
  });
  return { x, values };
}
