/**
 * Largest-Triangle-Three-Buckets (Steinarsson, 2013): reduces a series to
 * `threshold` points that keep its visual shape, for charts of long runs.
 * The first and last points are always kept; every other bucket keeps the
 * point forming the largest triangle with the point kept before it and the
 * average of the next bucket, which is how spikes and dips survive.
 */

/** Indices of the points to keep, ascending. `xs` must be sorted ascending. */
export function lttbIndices(xs: ArrayLike<number>, ys: ArrayLike<number>, threshold: number): number[] {
  const length = xs.length;
  if (ys.length !== length) throw new Error(`lttb: ${length} x values but ${ys.length} y values.`);
  if (!Number.isInteger(threshold) || threshold < 0) throw new Error(`lttb: threshold must be a non-negative integer (got ${threshold}).`);
  if (threshold >= length || length <= 2) return Array.from({ length }, (_, index) => index);
  if (threshold === 0) return [];
  if (threshold === 1) return [length - 1];
  if (threshold === 2) return [0, length - 1];

  const kept: number[] = [0];
  // The points between the first and the last, split into threshold - 2 buckets.
  const bucketSize = (length - 2) / (threshold - 2);
  let previous = 0;
  for (let bucket = 0; bucket < threshold - 2; bucket++) {
    const start = Math.floor(bucket * bucketSize) + 1;
    const end = Math.floor((bucket + 1) * bucketSize) + 1;

    // Average of the next bucket (the last point for the final bucket).
    const nextStart = end;
    const nextEnd = Math.min(Math.floor((bucket + 2) * bucketSize) + 1, length);
    let avgX = 0;
    let avgY = 0;
    const nextCount = nextEnd - nextStart;
    if (nextCount > 0) {
      for (let index = nextStart; index < nextEnd; index++) {
        avgX += xs[index] as number;
        avgY += ys[index] as number;
      }
      avgX /= nextCount;
      avgY /= nextCount;
    } else {
      avgX = xs[length - 1] as number;
      avgY = ys[length - 1] as number;
    }

    const ax = xs[previous] as number;
    const ay = ys[previous] as number;
    let bestArea = -1;
    let best = start;
    for (let index = start; index < end; index++) {
      // Twice the triangle's area; the factor does not change the winner.
      const area = Math.abs((ax - avgX) * ((ys[index] as number) - ay) - (ax - (xs[index] as number)) * (avgY - ay));
      if (area > bestArea) {
        bestArea = area;
        best = index;
      }
    }
    kept.push(best);
    previous = best;
  }
  kept.push(length - 1);
  return kept;
}

/** LTTB on objects: `x` and `y` pick the coordinates. */
export function lttb<T>(points: readonly T[], threshold: number, x: (point: T) => number, y: (point: T) => number): T[] {
  if (threshold >= points.length) return points.slice();
  const xs = new Float64Array(points.length);
  const ys = new Float64Array(points.length);
  points.forEach((point, index) => {
    xs[index] = x(point);
    ys[index] = y(point);
  });
  return lttbIndices(xs, ys, threshold).map((index) => points[index] as T);
}
