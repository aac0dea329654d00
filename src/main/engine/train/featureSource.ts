/**
 * Where a training batch's image features come from.
 *
 * - `PixelFeatureSource`: images decoded once into a byte bank; each batch
 *   is normalized and run through a trainable encoder (the scratch CNN) inside
 *   the step, so the encoder learns with the decoder.
 * - `CachedFeatureSource`: features computed once by a frozen encoder and
 *   kept in memory; a batch is a gather, no encoder forward at all.
 */
import * as tf from '@tensorflow/tfjs';
import type { Normalization } from '../features/encoder';
import { decodeImages } from '../data/images/loader';
import { normalizePixels } from '../data/images/normalize';
import type { DecoderFeatures } from '../model/decoder';
import type { FeatureEncoder } from '../features/encoder';
import type { SplitData } from './data';

export type SplitKey = 'train' | 'val';

/** tf.tidy for functions returning an object of tensors (tfjs types only accept its own container type). */
export function tidyObject<T>(body: () => T): T {
  return tf.tidy(body as unknown as () => tf.TensorContainer) as unknown as T;
}

export interface FeatureSource {
  /** Length of the pooled vector, which is also the number of grid channels. */
  readonly featureDim: number;
  /** Regions of the grid (rows × cols); 0 when there is none. */
  readonly gridRegions: number;
  /** Encoder weights that train with the decoder (empty when the encoder is frozen). */
  trainable(): Array<[string, tf.Variable]>;
  /** Whether those weights train in this (0-based) epoch; absent means always (fine-tuning waits for its warm-up). */
  trainsAt?(epoch: number): boolean;
  /** Features of these images of a split; call inside a tidy (or a gradient scope when training). */
  features(split: SplitKey, images: readonly number[], training: boolean): DecoderFeatures;
  dispose(): void;
}

/** Decoded RGB bytes of every image of a split, `size`×`size`, back to back. */
export interface PixelBank {
  size: number;
  count: number;
  bytes: Uint8Array;
}

/** Decodes a split's images; returns the bank and the indices of images that failed. */
export async function decodeSplit(split: SplitData, size: number, signal?: AbortSignal): Promise<{ bank: PixelBank; failed: Set<number> }> {
  const { images, errors } = await decodeImages(
    split.images.map((image) => image.file),
    { size, fit: 'squash', ...(signal ? { signal } : {}) },
  );
  const stride = size * size * 3;
  const ok = images.filter((pixels): pixels is Uint8Array => pixels !== null);
  const bytes = new Uint8Array(ok.length * stride);
  ok.forEach((pixels, i) => bytes.set(pixels, i * stride));
  return { bank: { size, count: ok.length, bytes }, failed: new Set(errors.map((error) => error.index)) };
}

/** Normalized floats [images, size, size, 3] for rows of a bank. */
export function pixelBatch(bank: PixelBank, images: readonly number[], normalization: Normalization): tf.Tensor4D {
  const stride = bank.size * bank.size * 3;
  const out = new Float32Array(images.length * stride);
  images.forEach((image, i) => normalizePixels(bank.bytes.subarray(image * stride, (image + 1) * stride), normalization, out, i * stride));
  return tf.tensor4d(out, [images.length, bank.size, bank.size, 3]);
}

export class PixelFeatureSource implements FeatureSource {
  readonly featureDim: number;
  readonly gridRegions: number;

  constructor(
    private readonly encoder: FeatureEncoder & { params: { entries(): Array<[string, tf.Variable]> } },
    private readonly banks: Record<SplitKey, PixelBank>,
  ) {
    this.featureDim = encoder.spec.pooledDim;
    this.gridRegions = encoder.spec.gridShape[0] * encoder.spec.gridShape[1];
  }

  trainable(): Array<[string, tf.Variable]> {
    return this.encoder.params.entries();
  }

  features(split: SplitKey, images: readonly number[], training: boolean): DecoderFeatures {
    const { pooled, grid } = this.encoder.encode(pixelBatch(this.banks[split], images, this.encoder.spec.normalization), training);
    return { pooled, grid };
  }

  dispose(): void {
    // The encoder's weights belong to the model; the banks are plain memory.
  }
}

/** Frozen features held in memory, one row per image. */
export interface FeatureTable {
  count: number;
  /** [count, dim] */
  pooled: Float32Array;
  /** [count, regions, dim], when the decoder needs the grid. */
  grid: Float32Array | null;
}

export class CachedFeatureSource implements FeatureSource {
  constructor(
    private readonly tables: Record<SplitKey, FeatureTable>,
    readonly featureDim: number,
    readonly gridRegions: number,
  ) {}

  trainable(): Array<[string, tf.Variable]> {
    return [];
  }

  features(split: SplitKey, images: readonly number[]): DecoderFeatures {
    const table = this.tables[split];
    const dim = this.featureDim;
    const pooled = new Float32Array(images.length * dim);
    images.forEach((image, i) => pooled.set(table.pooled.subarray(image * dim, (image + 1) * dim), i * dim));
    const features: DecoderFeatures = { pooled: tf.tensor2d(pooled, [images.length, dim]) };
    if (table.grid) {
      const cell = this.gridRegions * dim;
      const grid = new Float32Array(images.length * cell);
      images.forEach((image, i) => grid.set(table.grid!.subarray(image * cell, (image + 1) * cell), i * cell));
      features.grid = tf.tensor3d(grid, [images.length, this.gridRegions, dim]);
    }
    return features;
  }

  dispose(): void {}
}
