/**
 * Caption-preserving augmentation. Only flips are offered: the horizontal
 * one keeps every caption true once "left" and "right" are swapped, the
 * vertical one once "above" and "below" (and "top" and "bottom") are (see
 * text/mirror.ts). Crops could cut away a described object and colour
 * jitter could change a stated colour, so they are not offered.
 */
import type { Rng } from '../random';

/** Mirrors an HWC image left to right, into a new array. */
export function flipHorizontal(pixels: Uint8Array, width: number, height: number, channels = 3): Uint8Array {
  if (pixels.length !== width * height * channels) throw new RangeError(`flipHorizontal: ${pixels.length} bytes is not ${width}x${height}x${channels}.`);
  const out = new Uint8Array(pixels.length);
  const row = width * channels;
  for (let y = 0; y < height; y++) {
    const base = y * row;
    for (let x = 0; x < width; x++) {
      const from = base + x * channels;
      const to = base + (width - 1 - x) * channels;
      for (let c = 0; c < channels; c++) out[to + c] = pixels[from + c] as number;
    }
  }
  return out;
}

/** Mirrors an HWC image top to bottom, into a new array. */
export function flipVertical(pixels: Uint8Array, width: number, height: number, channels = 3): Uint8Array {
  if (pixels.length !== width * height * channels) throw new RangeError(`flipVertical: ${pixels.length} bytes is not ${width}x${height}x${channels}.`);
  const out = new Uint8Array(pixels.length);
  const row = width * channels;
  for (let y = 0; y < height; y++) out.set(pixels.subarray(y * row, (y + 1) * row), (height - 1 - y) * row);
  return out;
}

/** Per image of a batch: mirror it left to right, flip it top to bottom. */
export interface ImageFlips {
  horizontal?: readonly boolean[];
  vertical?: readonly boolean[];
}

export interface AugmentOptions {
  /** Probability of flipping each image; 0 turns augmentation off. */
  flipProbability: number;
}

/** Which items of a batch to flip; the caller flips the pixels and mirrors those items' captions. */
export function drawFlips(count: number, options: AugmentOptions, rng: Rng): boolean[] {
  return Array.from({ length: count }, () => options.flipProbability > 0 && rng.chance(options.flipProbability));
}
