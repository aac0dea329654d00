/**
 * Puts several runs' series on one x axis for the compare page. When the
 * union of x values fits, every run keeps its exact values (null where it
 * logged nothing at that x); otherwise the range is cut into equal-width
 * buckets and each run contributes its mean per bucket.
 */

export interface XYSeries {
  xs: ArrayLike<number>;
  ys: ArrayLike<number>;
}

export interface AlignedValues {
  x: number[];
  values: Array<Array<number | null>>;
  bucketed: boolean;
}

export function alignSeries(series: readonly XYSeries[], maxPoints: number): AlignedValues {
  if (!Number.isInteger(maxPoints) || maxPoints < 2) throw new Error(`maxPoints must be an integer of at least 2 (got ${maxPoints}).`);
  const union = new Set<number>();
  for (const { xs } of series) for (let index = 0; index < xs.length; index++) union.add(xs[index] as number);
  const x = [...union].sort((a, b) => a - b);
  if (x.length <= maxPoints) {
    const position = new Map(x.map((value, index) => [value, index]));
    const values = series.map(({ xs, ys }) => {
      const row: Array<number | null> = new Array<number | null>(x.length).fill(null);
      for (let index = 0; index < xs.length; index++) row[position.get(xs[index] as number) as number] = ys[index] as number;
      return row;
    });
    return { x, values, bucketed: false };
  }
  return bucketMeans(series, x[0] as number, x[x.length - 1] as number, maxPoints);
}

function bucketMeans(series: readonly XYSeries[], min: number, max: number, buckets: number): AlignedValues {
  const width = (max - min) / buckets;
  const bucketOf = (value: number) => Math.min(buckets - 1, Math.floor((value - min) / width));
  const x = Array.from({ length: buckets }, (_, index) => min + (index + 0.5) * width);
  const values = series.map(({ xs, ys }) => {
    const sums = new Float64Array(buckets);
    const counts = new Uint32Array(buckets);
    for (let index = 0; index < xs.length; index++) {
      const bucket = bucketOf(xs[index] as number);
      sums[bucket] = (sums[bucket] as number) + (ys[index] as number);
      counts[bucket] = (counts[bucket] as number) + 1;
    }
    return Array.from(sums, (sum, index) => ((counts[index] as number) > 0 ? sum / (counts[index] as number) : null));
  });
  return { x, values, bucketed: true };
}
