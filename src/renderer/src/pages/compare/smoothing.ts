/**
 * Exponential moving average of a curve, debiased as TensorBoard does so the
 * first points are not pulled toward zero. Weight 0 returns the curve as is;
 * 0.99 is very smooth. Smoothing is for reading noisy curves only: the table
 * and the bands always show the stored values.
 */
export function smooth(values: readonly number[], weight: number): number[] {
  if (!(weight >= 0 && weight < 1)) throw new Error(`Smoothing weight must be in [0, 1) (got ${weight}).`);
  if (weight === 0) return [...values];
  const out: number[] = [];
  let last = 0;
  let debias = 1;
  for (const value of values) {
    last = last * weight + (1 - weight) * value;
    debias *= weight;
    out.push(last / (1 - debias));
  }
  return out;
}

/** Values a log axis can show: zero and negative points are dropped rather than drawn at -∞. */
export function positivePoints(points: ReadonlyArray<{ x: number; y: number }>): Array<{ x: number; y: number }> {
  return points.filter((point) => point.y > 0);
}
