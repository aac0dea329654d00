/**
 * Optuna's _SearchSpaceTransform for one numeric parameter: the interval a
 * uniform draw is taken from (log scale for log parameters, widened by half a
 * step on each side for stepped ones, so every step value gets an equal
 * share), and the way back to a legal value (exp, snap to the step grid with
 * round-half-to-even as NumPy rounds, clip to the bounds, never exactly
 * `high` for continuous floats).
 */
import type { NumericDistribution } from './space';

/** The next double below x (numpy.nextafter(x, -inf)). */
export function nextDown(x: number): number {
  if (Number.isNaN(x) || x === -Infinity) return x;
  if (x === 0) return -Number.MIN_VALUE;
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x);
  const bits = view.getBigUint64(0);
  view.setBigUint64(0, x > 0 ? bits - 1n : bits + 1n);
  return view.getFloat64(0);
}

/** numpy.round: halves go to the even neighbour. */
export function roundHalfEven(x: number): number {
  const floor = Math.floor(x);
  const diff = x - floor;
  if (diff < 0.5) return floor;
  if (diff > 0.5) return floor + 1;
  return floor % 2 === 0 ? floor : floor + 1;
}

const clip = (x: number, low: number, high: number): number => Math.min(Math.max(x, low), high);

/** The interval uniform draws are taken from, in the transformed (log / half-step-widened) scale. */
export function transformedBounds(dist: NumericDistribution): [number, number] {
  if (dist.type === 'float') {
    if (dist.log) return [Math.log(dist.low), Math.log(dist.high)];
    if (dist.step !== undefined) return [dist.low - 0.5 * dist.step, dist.high + 0.5 * dist.step];
    return [dist.low, dist.high];
  }
  const half = 0.5 * dist.step;
  if (dist.log) return [Math.log(dist.low - half), Math.log(dist.high + half)];
  return [dist.low - half, dist.high + half];
}

/** A value in the transformed scale back to a legal parameter value. */
export function untransform(dist: NumericDistribution, x: number): number {
  const single = dist.low === dist.high;
  if (dist.type === 'float') {
    if (dist.log) {
      const value = Math.exp(x);
      return single ? value : clip(value, dist.low, nextDown(dist.high));
    }
    if (dist.step !== undefined) return clip(roundHalfEven((x - dist.low) / dist.step) * dist.step + dist.low, dist.low, dist.high);
    return single ? x : Math.min(x, nextDown(dist.high));
  }
  if (dist.log) return clip(roundHalfEven(Math.exp(x)), dist.low, dist.high);
  const index = Math.floor((x - dist.low) / dist.step + 0.5);
  return clip(index * dist.step + dist.low, dist.low, dist.high);
}
