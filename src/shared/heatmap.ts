/**
 * Attention heatmaps from the weights the engine reports: a grid of
 * `rows × cols` weights (row-major) drawn over the image it covers. The
 * renderer's canvas and the HTML report's images use the same functions, so
 * the two show the same picture. Plain math, no DOM.
 */

export interface HeatmapOptions {
  /** Smooth (bilinear upsampling, then a Gaussian blur of about half a cell) or the raw grid (one flat block per region). */
  smooth: boolean;
  /** Opacity of the hottest pixel (0..1). */
  maxAlpha?: number;
}

/**
 * How many times the uniform weight (1 / regions) the scale's top is at
 * least: a map is scaled by its largest weight, but never by less than this
 * multiple of uniform, so nearly uniform attention looks flat and dim
 * instead of its small differences being stretched into a confident picture.
 */
export const MIN_SCALE_OVER_UNIFORM = 3;

/** Weights scaled to 0..1 for display: by the largest weight, or by MIN_SCALE_OVER_UNIFORM / regions if that is larger. */
export function scaleForDisplay(weights: readonly number[]): number[] {
  if (weights.length === 0) return [];
  const top = Math.max(...weights, MIN_SCALE_OVER_UNIFORM / weights.length);
  return weights.map((w) => Math.min(1, Math.max(0, w / top)));
}

/** The grid at `width × height`: bilinear between region centres (smooth) or nearest region (raw). */
export function upsample(values: readonly number[], rows: number, cols: number, width: number, height: number, smooth: boolean): Float32Array {
  if (values.length !== rows * cols) throw new Error(`Attention has ${values.length} weights, but the grid is ${rows}×${cols}.`);
  const out = new Float32Array(width * height);
  const at = (r: number, c: number) => values[Math.min(rows - 1, Math.max(0, r)) * cols + Math.min(cols - 1, Math.max(0, c))]!;
  for (let y = 0; y < height; y++) {
    const gy = ((y + 0.5) / height) * rows - 0.5;
    for (let x = 0; x < width; x++) {
      const gx = ((x + 0.5) / width) * cols - 0.5;
      if (!smooth) {
        out[y * width + x] = at(Math.round(gy), Math.round(gx));
        continue;
      }
      const r0 = Math.floor(gy);
      const c0 = Math.floor(gx);
      const fy = gy - r0;
      const fx = gx - c0;
      out[y * width + x] =
        at(r0, c0) * (1 - fy) * (1 - fx) + at(r0, c0 + 1) * (1 - fy) * fx + at(r0 + 1, c0) * fy * (1 - fx) + at(r0 + 1, c0 + 1) * fy * fx;
    }
  }
  return out;
}

/** Separable Gaussian blur with edges clamped. */
export function gaussianBlur(values: Float32Array, width: number, height: number, sigma: number): Float32Array {
  if (sigma <= 0) return values;
  const radius = Math.ceil(2.5 * sigma);
  const kernel = Array.from({ length: 2 * radius + 1 }, (_, i) => Math.exp(-((i - radius) ** 2) / (2 * sigma * sigma)));
  const total = kernel.reduce((a, b) => a + b, 0);
  const k = kernel.map((v) => v / total);
  const pass = (input: Float32Array, horizontal: boolean): Float32Array => {
    const out = new Float32Array(input.length);
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        let sum = 0;
        for (let i = -radius; i <= radius; i++) {
          const xx = horizontal ? Math.min(width - 1, Math.max(0, x + i)) : x;
          const yy = horizontal ? y : Math.min(height - 1, Math.max(0, y + i));
          sum += input[yy * width + xx]! * k[i + radius]!;
        }
        out[y * width + x] = sum;
      }
    }
    return out;
  };
  return pass(pass(values, true), false);
}

/** A perceptual dark-blue → red → yellow ramp (close to "inferno") for 0..1. */
export function heatColor(value: number): [number, number, number] {
  const stops: [number, [number, number, number]][] = [
    [0, [0, 0, 4]],
    [0.25, [87, 16, 110]],
    [0.5, [188, 55, 84]],
    [0.75, [249, 142, 9]],
    [1, [252, 255, 164]],
  ];
  const v = Math.min(1, Math.max(0, value));
  for (let i = 1; i < stops.length; i++) {
    const [p1, c1] = stops[i]!;
    const [p0, c0] = stops[i - 1]!;
    if (v <= p1) {
      const t = (v - p0) / (p1 - p0);
      return [0, 1, 2].map((j) => Math.round(c0[j]! + (c1[j]! - c0[j]!) * t)) as [number, number, number];
    }
  }
  return stops[stops.length - 1]![1];
}

/** RGBA pixels (width × height × 4) of the heatmap for one word, ready for an ImageData or sharp. */
export function heatmapRgba(weights: readonly number[], grid: { rows: number; cols: number }, width: number, height: number, options: HeatmapOptions): Uint8ClampedArray<ArrayBuffer> {
  const scaled = scaleForDisplay(weights);
  let values = upsample(scaled, grid.rows, grid.cols, width, height, options.smooth);
  if (options.smooth) values = gaussianBlur(values, width, height, 0.5 * Math.min(width / grid.cols, height / grid.rows));
  const maxAlpha = options.maxAlpha ?? 0.75;
  const out = new Uint8ClampedArray(width * height * 4);
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    const [r, g, b] = heatColor(v);
    out[4 * i] = r;
    out[4 * i + 1] = g;
    out[4 * i + 2] = b;
    // Cold regions stay see-through so the image shows where the model does not look.
    out[4 * i + 3] = Math.round(255 * maxAlpha * (0.15 + 0.85 * v));
  }
  return out;
}
