/**
 * RGB bytes → the float input an encoder expects. Pixel caches store bytes
 * (4x smaller than floats) and normalize while a batch is assembled, so one
 * cache serves encoders with different normalizations.
 */
/** How an encoder wants its input scaled. */
export type Normalization = 'imagenet' | 'minus-one-to-one' | 'zero-to-one';

export const IMAGENET_MEAN = [0.485, 0.456, 0.406] as const;
export const IMAGENET_STD = [0.229, 0.224, 0.225] as const;

/** Per channel: value = byte * scale[c] + offset[c]. */
function affine(normalization: Normalization): { scale: [number, number, number]; offset: [number, number, number] } {
  switch (normalization) {
    case 'imagenet':
      return {
        scale: [0, 1, 2].map((c) => 1 / (255 * (IMAGENET_STD[c] as number))) as [number, number, number],
        offset: [0, 1, 2].map((c) => -(IMAGENET_MEAN[c] as number) / (IMAGENET_STD[c] as number)) as [number, number, number],
      };
    case 'minus-one-to-one':
      return { scale: [1 / 127.5, 1 / 127.5, 1 / 127.5], offset: [-1, -1, -1] };
    case 'zero-to-one':
      return { scale: [1 / 255, 1 / 255, 1 / 255], offset: [0, 0, 0] };
  }
}

/** Writes normalized floats for `pixels` (HWC RGB bytes) into `out` at `offset`; returns `out`. */
export function normalizePixels(pixels: Uint8Array, normalization: Normalization, out = new Float32Array(pixels.length), offset = 0): Float32Array {
  const { scale, offset: shift } = affine(normalization);
  const [s0, s1, s2] = scale;
  const [o0, o1, o2] = shift;
  for (let i = 0; i < pixels.length; i += 3) {
    out[offset + i] = (pixels[i] as number) * s0 + o0;
    out[offset + i + 1] = (pixels[i + 1] as number) * s1 + o1;
    out[offset + i + 2] = (pixels[i + 2] as number) * s2 + o2;
  }
  return out;
}

/** The inverse, for previews of what the encoder saw. */
export function denormalizePixels(values: Float32Array, normalization: Normalization): Uint8Array {
  const { scale, offset } = affine(normalization);
  const out = new Uint8Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const c = i % 3;
    out[i] = Math.max(0, Math.min(255, Math.round(((values[i] as number) - (offset[c] as number)) / (scale[c] as number))));
  }
  return out;
}
