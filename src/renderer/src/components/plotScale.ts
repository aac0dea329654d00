/**
 * Linear and log scales for the canvas charts (scatter, parallel coordinates,
 * contour): a domain from the data, a mapping into pixels and a few ticks.
 */
export interface Scale {
  (value: number): number;
  ticks: number[];
  log: boolean;
  domain: [number, number];
}

export { AXIS_COLOR, GRID_COLOR, tickText } from './chartTheme';

/** Finite values only; a log scale keeps the positive ones. */
export function extent(values: readonly number[], log = false): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of values) {
    if (!Number.isFinite(v) || (log && v <= 0)) continue;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  if (lo === Infinity) return log ? [1, 10] : [0, 1];
  if (lo === hi) return log ? [lo / 2, hi * 2] : [lo - 0.5, hi + 0.5];
  return [lo, hi];
}

/** A domain widened by 5% on each side (in log space for log scales), so points on its edges are not cut. */
export function padded([lo, hi]: [number, number], log = false): [number, number] {
  if (log) {
    const f = (hi / lo) ** 0.05;
    return [lo / f, hi * f];
  }
  const d = (hi - lo) * 0.05;
  return [lo - d, hi + d];
}

export function scale(domain: [number, number], range: [number, number], log = false): Scale {
  const [d0, d1] = log ? [Math.log10(domain[0]), Math.log10(domain[1])] : domain;
  const f = ((value: number) => {
    const v = log ? Math.log10(value) : value;
    return range[0] + ((v - d0) / (d1 - d0 || 1)) * (range[1] - range[0]);
  }) as Scale;
  f.log = log;
  f.domain = domain;
  if (log) {
    const ticks: number[] = [];
    for (let e = Math.ceil(d0); e <= Math.floor(d1); e++) ticks.push(10 ** e);
    f.ticks = ticks.length >= 2 ? ticks : [domain[0], Math.sqrt(domain[0] * domain[1]), domain[1]];
  } else {
    const span = d1 - d0;
    const step0 = 10 ** Math.floor(Math.log10(span / 4 || 1));
    const step = [1, 2, 5, 10].map((m) => m * step0).find((s) => span / s <= 6) ?? step0 * 10;
    const ticks: number[] = [];
    for (let t = Math.ceil(d0 / step) * step; t <= d1 + step * 1e-9; t += step) ticks.push(Number(t.toPrecision(12)));
    f.ticks = ticks;
  }
  return f;
}

/** The inverse of a scale's pixel mapping, for brushes and hover. */
export function invert(s: Scale, range: [number, number], pixel: number): number {
  const [d0, d1] = s.log ? [Math.log10(s.domain[0]), Math.log10(s.domain[1])] : s.domain;
  const v = d0 + ((pixel - range[0]) / (range[1] - range[0])) * (d1 - d0);
  return s.log ? 10 ** v : v;
}

/** A canvas sized for the device's pixel ratio; returns its 2-D context in CSS pixels. */
export function prepareCanvas(canvas: HTMLCanvasElement, width: number, height: number): CanvasRenderingContext2D {
  const ratio = window.devicePixelRatio || 1;
  canvas.width = Math.round(width * ratio);
  canvas.height = Math.round(height * ratio);
  canvas.style.width = `${width}px`;
  canvas.style.height = `${height}px`;
  const ctx = canvas.getContext('2d')!;
  ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
  ctx.clearRect(0, 0, width, height);
  ctx.font = '11px system-ui, sans-serif';
  return ctx;
}

