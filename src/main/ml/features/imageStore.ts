/**
 * The pixel cache, for encoders that train (the from-scratch CNN), whose
 * features cannot be cached: every image is decoded and resized once and
 * kept on disk as RGB bytes; batches are normalized on the fly, so one cache
 * serves any normalization. Bytes are 4x smaller than floats and reading a
 * row is one positioned read.
 *
 * Key: the folder is named by (image set name, size, fit); the fingerprint
 * covers every image's size and mtime and the pixel cap.
 *
 *   const { store } = await openImageStore({ cacheRoot, imageSet, size: 128, signal, onProgress });
 *   const flips = drawFlips(ids.length, { flipProbability: 0.5 }, rng);      // optional augmentation
 *   const pixels = store.batch(ids, 'imagenet', { horizontal: flips });     // [n, size, size, 3] floats
 *   const images = tf.tensor4d(pixels, [ids.length, store.size, store.size, 3]);
 *   // and mirror the captions of flipped items: mirrorIds(ids, mirrorIdMap(vocabulary))
 */
import { join } from 'node:path';
import { flipHorizontal, flipVertical, type ImageFlips } from '../../lib/data/images/augment';
import { DEFAULT_DECODE_OPTIONS, type ResizeFit } from '../../lib/data/images/decode';
import { decodeImages, type ItemError } from '../../lib/data/images/loader';
import { normalizePixels } from '../../lib/data/images/normalize';
import type { Normalization } from './encoder';
import { imageSetFingerprint, shortHash, slug, type ImageSet } from './imageSet';
import { ensureRowCache, RowCacheReader, RowCacheView, type BuildProgress, type CacheStatus } from './rowCache';

export interface PixelCacheOptions {
  cacheRoot: string;
  imageSet: ImageSet;
  /** Edge of the square images stored. */
  size: number;
  fit?: ResizeFit;
  maxPixels?: number;
  batchSize?: number;
  concurrency?: number;
  signal?: AbortSignal;
  onProgress?: (progress: BuildProgress) => void;
}

/** Decoded images back to back, as the training loop's pixel bank holds them. */
export interface PixelRows {
  size: number;
  count: number;
  bytes: Uint8Array;
}

export function pixelCacheDir(options: Pick<PixelCacheOptions, 'cacheRoot' | 'imageSet' | 'size' | 'fit'>): string {
  const fit = options.fit ?? DEFAULT_DECODE_OPTIONS.fit;
  return join(options.cacheRoot, 'pixels', `${slug(options.imageSet.name)}-${options.size}-${fit}-${shortHash(JSON.stringify([options.imageSet.name, options.size, fit]))}`);
}

export async function openImageStore(options: PixelCacheOptions): Promise<{ store: ImageStore; status: CacheStatus }> {
  const fit = options.fit ?? DEFAULT_DECODE_OPTIONS.fit;
  const maxPixels = options.maxPixels ?? DEFAULT_DECODE_OPTIONS.maxPixels;
  const key = { size: options.size, fit, imageSet: options.imageSet.name };
  const fingerprint = shortHash(JSON.stringify({ key, maxPixels, images: await imageSetFingerprint(options.imageSet) }));
  const dir = pixelCacheDir(options);
  const fileOf = new Map(options.imageSet.images.map((image) => [image.id, image.file]));
  const stride = options.size * options.size * 3;
  const status = await ensureRowCache<{ images: (Uint8Array | null)[]; errors: ItemError[] }>({
    dir,
    kind: 'pixels',
    key,
    fingerprint,
    files: [{ name: 'pixels', dtype: 'uint8', rowShape: [options.size, options.size, 3] }],
    ids: options.imageSet.images.map((image) => image.id),
    batchSize: options.batchSize ?? 64,
    signal: options.signal,
    onProgress: options.onProgress,
    stages: {
      prepare: (ids) =>
        decodeImages(
          ids.map((id) => fileOf.get(id) as string),
          { size: options.size, fit, maxPixels, ...(options.concurrency ? { concurrency: options.concurrency } : {}), ...(options.signal ? { signal: options.signal } : {}) },
        ),
      finish: async ({ images, errors }) => {
        const buffer = new Uint8Array(images.length * stride);
        images.forEach((pixels, i) => pixels && buffer.set(pixels, i * stride));
        return { buffers: [buffer], failed: errors.map((error) => ({ offset: error.index, reason: error.reason, message: error.message })) };
      },
    },
  });
  return { store: new ImageStore(await RowCacheReader.open(dir), options.size), status };
}

export class ImageStore extends RowCacheView {
  constructor(
    reader: RowCacheReader,
    readonly size: number,
  ) {
    super(reader);
  }

  /** RGB bytes [ids.length, size, size, 3]. */
  bytes(ids: readonly string[]): Uint8Array {
    return this.reader.readRows('pixels', ids);
  }

  /** The bytes of these images in one block, shaped like the training loop's pixel bank. */
  rows(ids: readonly string[]): PixelRows {
    return { size: this.size, count: ids.length, bytes: this.bytes(ids) };
  }

  /** Normalized floats [ids.length, size, size, 3]; items with `flips.horizontal[i]` mirrored left to right, with `flips.vertical[i]` top to bottom. */
  batch(ids: readonly string[], normalization: Normalization, flips: ImageFlips = {}): Float32Array {
    const bytes = this.bytes(ids);
    const stride = this.size * this.size * 3;
    const out = new Float32Array(bytes.length);
    for (let i = 0; i < ids.length; i++) {
      let pixels = bytes.subarray(i * stride, (i + 1) * stride);
      if (flips.horizontal?.[i]) pixels = flipHorizontal(pixels, this.size, this.size);
      if (flips.vertical?.[i]) pixels = flipVertical(pixels, this.size, this.size);
      normalizePixels(pixels, normalization, out, i * stride);
    }
    return out;
  }

  close(): void {
    this.reader.close();
  }
}
