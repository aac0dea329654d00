/**
 * Decoding many images at once. sharp decodes on libuv's thread pool, so
 * several images in flight keep every core busy while JavaScript only
 * schedules; each result keeps its slot, and a file that fails becomes an
 * item error, never a failed batch.
 */
import { availableParallelism } from 'node:os';
import { mapConcurrent } from '../readers/imageFiles';
import { decodeImage, DEFAULT_DECODE_OPTIONS, ImageDecodeError, type DecodeFailure, type DecodeOptions } from './decode';
import { normalizePixels, type Normalization } from './normalize';

export interface ItemError {
  index: number;
  file: string;
  reason: DecodeFailure;
  message: string;
}

export interface LoadOptions extends DecodeOptions {
  /** Images decoded at once; default: the number of cores, at least 4. */
  concurrency?: number;
  signal?: AbortSignal;
}

/** Default concurrency: enough decodes in flight to keep sharp's threads busy. */
export function defaultConcurrency(): number {
  return Math.max(4, availableParallelism());
}

/** Decodes every file to bytes; `images[i]` is null where `errors` has an entry for i. */
export async function decodeImages(files: readonly string[], options: Partial<LoadOptions> = {}): Promise<{ images: (Uint8Array | null)[]; errors: ItemError[] }> {
  const full = { ...DEFAULT_DECODE_OPTIONS, ...options };
  const errors: ItemError[] = [];
  const images = await mapConcurrent(files, options.concurrency ?? defaultConcurrency(), async (file, index) => {
    if (options.signal?.aborted) throw options.signal.reason ?? new Error('Cancelled.');
    try {
      return (await decodeImage(file, full)).data;
    } catch (error) {
      if (!(error instanceof ImageDecodeError)) throw error;
      errors.push({ index, file, reason: error.reason, message: error.message });
      return null;
    }
  });
  errors.sort((a, b) => a.index - b.index);
  return { images, errors };
}

export interface FloatBatch {
  /** [count, size, size, 3] floats, normalized; zeros where an item failed. */
  data: Float32Array;
  count: number;
  size: number;
  /** False where the item failed; such items should be left out of the loss. */
  ok: boolean[];
  errors: ItemError[];
}

/** Decodes and normalizes a batch straight into one Float32Array, ready for `tf.tensor4d`. */
export async function loadImageBatch(files: readonly string[], normalization: Normalization, options: Partial<LoadOptions> = {}): Promise<FloatBatch> {
  const size = options.size ?? DEFAULT_DECODE_OPTIONS.size;
  const { images, errors } = await decodeImages(files, options);
  const stride = size * size * 3;
  const data = new Float32Array(files.length * stride);
  images.forEach((pixels, i) => {
    if (pixels) normalizePixels(pixels, normalization, data, i * stride);
  });
  return { data, count: files.length, size, ok: images.map((pixels) => pixels !== null), errors };
}
