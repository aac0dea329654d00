/**
 * The feature cache: a frozen encoder runs over an image set once, and its
 * pooled vectors and spatial grids are kept on disk (float16 by default);
 * training then reads batches from the store instead of re-running the CNN.
 *
 * Key: the cache folder is named by (image set name, encoder id, input size,
 * normalization, resize fit, dtype); inside it, the fingerprint covers the
 * encoder's weights hash and every image's size and mtime. New weights or
 * changed images make the cache stale: it is deleted and rebuilt.
 *
 * For the training loop:
 *
 *   const { store } = await openFeatureStore({ cacheRoot, imageSet, encoder, signal, onProgress });
 *   const batch = store.table(ids, { grid: true });   // { count, pooled, grid }
 *   const pooled = tf.tensor2d(batch.pooled, [batch.count, store.pooledDim]);
 *   const grid = tf.tensor3d(batch.grid!, [batch.count, store.gridRegions, store.gridChannels]);
 *
 * Images that failed to decode are in `store.failed` and not `store.has(id)`.
 */
import * as tf from '@tensorflow/tfjs';
import { join } from 'node:path';
import { DEFAULT_DECODE_OPTIONS, type ResizeFit } from '../../lib/data/images/decode';
import { loadImageBatch, type FloatBatch } from '../../lib/data/images/loader';
import type { FeatureEncoder } from './encoder';
import { decodeFloat16, encodeFloat16 } from './float16';
import { imageSetFingerprint, shortHash, slug, type ImageSet } from './imageSet';
import { ensureRowCache, RowCacheReader, RowCacheView, type BuildProgress, type CacheStatus, type RowFile } from './rowCache';

export type FeatureDtype = 'float16' | 'float32';

export interface FeatureCacheOptions {
  /** Folder holding all caches, normally `<dataDir>/cache`. */
  cacheRoot: string;
  imageSet: ImageSet;
  encoder: FeatureEncoder;
  fit?: ResizeFit;
  maxPixels?: number;
  /** Images per encoder forward pass. */
  batchSize?: number;
  dtype?: FeatureDtype;
  /** Store the spatial grid (needed by attention decoders); default true. */
  grid?: boolean;
  /** Images decoded at once. */
  concurrency?: number;
  signal?: AbortSignal;
  onProgress?: (progress: BuildProgress) => void;
}

export interface FeatureTable {
  count: number;
  /** [count, pooledDim] */
  pooled: Float32Array;
  /** [count, regions, channels], when asked for and stored. */
  grid: Float32Array | null;
}

export function featureCacheDir(options: Pick<FeatureCacheOptions, 'cacheRoot' | 'imageSet' | 'encoder' | 'fit' | 'dtype' | 'grid'>): string {
  const spec = options.encoder.spec;
  const identity = JSON.stringify([options.imageSet.name, spec.id, spec.inputSize, spec.normalization, options.fit ?? DEFAULT_DECODE_OPTIONS.fit, options.dtype ?? 'float16', options.grid ?? true]);
  return join(options.cacheRoot, 'features', `${slug(options.imageSet.name)}-${slug(spec.id)}-${spec.inputSize}-${shortHash(identity)}`);
}

export async function openFeatureStore(options: FeatureCacheOptions): Promise<{ store: FeatureStore; status: CacheStatus }> {
  const { encoder, imageSet } = options;
  const spec = encoder.spec;
  const dtype = options.dtype ?? 'float16';
  const withGrid = options.grid ?? true;
  const fit = options.fit ?? DEFAULT_DECODE_OPTIONS.fit;
  const maxPixels = options.maxPixels ?? DEFAULT_DECODE_OPTIONS.maxPixels;
  const [rows, cols, channels] = spec.gridShape;
  const files: RowFile[] = [{ name: 'pooled', dtype, rowShape: [spec.pooledDim] }];
  if (withGrid) files.push({ name: 'grid', dtype, rowShape: [rows * cols, channels] });
  const key = { encoder: spec.id, inputSize: spec.inputSize, normalization: spec.normalization, fit, dtype, grid: withGrid ? 1 : 0, imageSet: imageSet.name };
  const fingerprint = shortHash(JSON.stringify({ key, weights: encoder.weightsHash(), maxPixels, images: await imageSetFingerprint(imageSet) }));
  const dir = featureCacheDir(options);
  const fileOf = new Map(imageSet.images.map((image) => [image.id, image.file]));

  const status = await ensureRowCache<FloatBatch>({
    dir,
    kind: 'features',
    key,
    fingerprint,
    files,
    ids: imageSet.images.map((image) => image.id),
    batchSize: options.batchSize ?? 32,
    signal: options.signal,
    onProgress: options.onProgress,
    stages: {
      prepare: (ids) =>
        loadImageBatch(
          ids.map((id) => fileOf.get(id) as string),
          spec.normalization,
          { size: spec.inputSize, fit, maxPixels, ...(options.concurrency ? { concurrency: options.concurrency } : {}), ...(options.signal ? { signal: options.signal } : {}) },
        ),
      finish: async (batch) => {
        const { pooled, grid } = encodeBatch(encoder, batch, withGrid);
        return {
          buffers: [toBytes(pooled, dtype), ...(grid ? [toBytes(grid, dtype)] : [])],
          failed: batch.errors.map((error) => ({ offset: error.index, reason: error.reason, message: error.message })),
        };
      },
    },
  });
  return { store: new FeatureStore(await RowCacheReader.open(dir), spec.pooledDim, withGrid ? rows * cols : 0, channels), status };
}

/** One forward pass; every tensor is released before returning, only plain arrays leave. */
function encodeBatch(encoder: FeatureEncoder, batch: FloatBatch, withGrid: boolean): { pooled: Float32Array; grid: Float32Array | null } {
  const { inputSize, pooledDim, gridShape, id } = encoder.spec;
  const outputs = tf.tidy(() => {
    const images = tf.tensor4d(batch.data, [batch.count, inputSize, inputSize, 3]);
    const encoded = encoder.encode(images, false);
    return withGrid ? [encoded.pooled, encoded.grid] : [encoded.pooled];
  });
  try {
    const [pooled, grid] = outputs as [tf.Tensor, tf.Tensor | undefined];
    const expectGrid = [batch.count, gridShape[0] * gridShape[1], gridShape[2]];
    if (pooled.shape.join() !== [batch.count, pooledDim].join()) throw new Error(`Encoder ${id} gave pooled features of shape [${pooled.shape}], its spec says [${batch.count}, ${pooledDim}].`);
    if (grid && grid.shape.join() !== expectGrid.join()) throw new Error(`Encoder ${id} gave a grid of shape [${grid.shape}], its spec says [${expectGrid}].`);
    const pooledData = pooled.dataSync() as Float32Array;
    const gridData = grid ? (grid.dataSync() as Float32Array) : null;
    // Rows of images that failed to decode hold zeros, never the encoder's output for a blank input.
    batch.ok.forEach((ok, i) => {
      if (ok) return;
      pooledData.fill(0, i * pooledDim, (i + 1) * pooledDim);
      const cell = expectGrid[1] as number * (expectGrid[2] as number);
      gridData?.fill(0, i * cell, (i + 1) * cell);
    });
    return { pooled: pooledData, grid: gridData };
  } finally {
    for (const tensor of outputs) tensor.dispose();
  }
}

function toBytes(values: Float32Array, dtype: FeatureDtype): Uint8Array {
  const typed = dtype === 'float16' ? encodeFloat16(values) : values;
  return new Uint8Array(typed.buffer, typed.byteOffset, typed.byteLength);
}

export class FeatureStore extends RowCacheView {
  constructor(
    reader: RowCacheReader,
    readonly pooledDim: number,
    /** rows × cols of the grid; 0 when no grid was stored. */
    readonly gridRegions: number,
    readonly gridChannels: number,
  ) {
    super(reader);
  }

  /** [ids.length, pooledDim] floats. */
  pooled(ids: readonly string[]): Float32Array {
    return this.decode('pooled', ids);
  }

  /** [ids.length, gridRegions, gridChannels] floats. */
  grid(ids: readonly string[]): Float32Array {
    if (this.gridRegions === 0) throw new Error(`${this.dir}: this cache was built without grids.`);
    return this.decode('grid', ids);
  }

  /** Everything one training batch needs from the cache. */
  table(ids: readonly string[], options: { grid?: boolean } = {}): FeatureTable {
    return { count: ids.length, pooled: this.pooled(ids), grid: options.grid ? this.grid(ids) : null };
  }

  close(): void {
    this.reader.close();
  }

  private decode(name: string, ids: readonly string[]): Float32Array {
    const bytes = this.reader.readRows(name, ids);
    if (this.reader.file(name).dtype === 'float32') return new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
    return decodeFloat16(new Uint16Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 2));
  }
}
