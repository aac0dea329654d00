/**
 * Where a training batch's image features come from. Both read the
 * datasets module's on-disk caches under `<dataDir>/cache`, so images are
 * decoded (and frozen features computed) once, not every run:
 *
 * - `PixelFeatureSource`: decoded RGB bytes from the pixel cache; each batch
 *   is normalized and run through a trainable encoder (the scratch CNN, or a
 *   backbone being fine-tuned) inside the step, so the encoder learns.
 * - `CachedFeatureSource`: pooled vectors (and grids) a frozen backbone
 *   computed once into the feature cache; a batch is a read, no encoder
 *   forward at all.
 */
import * as tf from '@tensorflow/tfjs';
import type { ImageFlips } from '../../lib/data/images/augment';
import type { DecoderFeatures } from '../model/decoder';
import type { FeatureEncoder } from '../features/encoder';
import type { FeatureStore } from '../features/featureStore';
import type { ImageStore } from '../features/imageStore';
import type { ImageSet } from '../features/imageSet';
import type { HostBatch } from './batches';
import type { SplitData, TrainingData } from './data';

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
  /** Whether `features` can mirror images (pixels are at hand); cached features cannot. */
  readonly flippable?: boolean;
  /** Features of these images of a split, `flips.horizontal[i]` / `flips.vertical[i]` mirroring image i; call inside a tidy (or a gradient scope when training). */
  features(split: SplitKey, images: readonly number[], training: boolean, flips?: ImageFlips): DecoderFeatures;
  dispose(): void;
}

/**
 * A training batch's features, one row per caption. When rows share images
 * (`HostBatch.distinct`), the source encodes each distinct image once, with
 * its flip, and each row gathers its image's features: the gradient of an
 * image's encoder pass is the sum over its rows, as if each row had its own.
 */
export function rowFeatures(source: FeatureSource, batch: HostBatch): DecoderFeatures {
  if (!batch.distinct) return source.features('train', batch.images, true, flipsOf(batch));
  const { images, rowOf } = batch.distinct;
  const perImage = source.features('train', images, true, flipsOf(batch.distinct));
  const rows = tf.tensor1d(rowOf, 'int32');
  return {
    ...(perImage.pooled ? { pooled: tf.gather(perImage.pooled, rows) } : {}),
    ...(perImage.grid ? { grid: tf.gather(perImage.grid, rows) } : {}),
  };
}

function flipsOf(drawn: { flips?: boolean[]; verticalFlips?: boolean[] }): ImageFlips | undefined {
  if (!drawn.flips && !drawn.verticalFlips) return undefined;
  return { ...(drawn.flips ? { horizontal: drawn.flips } : {}), ...(drawn.verticalFlips ? { vertical: drawn.verticalFlips } : {}) };
}

/** The images a run uses (training and validation) as one cacheable set, named by the dataset. */
export function runImageSet(data: TrainingData): ImageSet {
  const seen = new Set<string>();
  const images = [...data.train.images, ...data.val.images].filter((image) => (seen.has(image.id) ? false : (seen.add(image.id), true)));
  return { name: data.source, images: images.map((image) => ({ id: image.id, file: image.file })) };
}

/** Image ids per split, for turning batch indices into cache rows. */
export function splitIds(data: TrainingData): Record<SplitKey, string[]> {
  return { train: data.train.images.map((image) => image.id), val: data.val.images.map((image) => image.id) };
}

/** Indices of a split's images the cache could not decode. */
export function failedIn(split: SplitData, has: (id: string) => boolean): Set<number> {
  const failed = new Set<number>();
  split.images.forEach((image, index) => {
    if (!has(image.id)) failed.add(index);
  });
  return failed;
}

export class PixelFeatureSource implements FeatureSource {
  readonly flippable = true;
  readonly featureDim: number;
  readonly gridRegions: number;

  constructor(
    private readonly encoder: FeatureEncoder,
    private readonly pixels: ImageStore,
    private readonly ids: Record<SplitKey, string[]>,
    private readonly weights: () => Array<[string, tf.Variable]>,
    private readonly warmupEpochs = 0,
    private readonly release: () => void = () => undefined,
  ) {
    this.featureDim = encoder.spec.pooledDim;
    this.gridRegions = encoder.spec.gridShape[0] * encoder.spec.gridShape[1];
  }

  trainable(): Array<[string, tf.Variable]> {
    return this.weights();
  }

  trainsAt(epoch: number): boolean {
    return epoch >= this.warmupEpochs;
  }

  features(split: SplitKey, images: readonly number[], training: boolean, flips?: ImageFlips): DecoderFeatures {
    const ids = images.map((image) => this.ids[split][image]!);
    const size = this.pixels.size;
    const batch = tf.tensor4d(this.pixels.batch(ids, this.encoder.spec.normalization, flips), [ids.length, size, size, 3]);
    const { pooled, grid } = this.encoder.encode(batch, training);
    return { pooled, grid };
  }

  dispose(): void {
    this.pixels.close();
    this.release();
  }
}

export class CachedFeatureSource implements FeatureSource {
  readonly featureDim: number;
  readonly gridRegions: number;

  constructor(
    private readonly store: FeatureStore,
    private readonly ids: Record<SplitKey, string[]>,
    private readonly withGrid: boolean,
  ) {
    this.featureDim = store.pooledDim;
    this.gridRegions = withGrid ? store.gridRegions : 0;
  }

  trainable(): Array<[string, tf.Variable]> {
    return [];
  }

  features(split: SplitKey, images: readonly number[]): DecoderFeatures {
    const ids = images.map((image) => this.ids[split][image]!);
    const table = this.store.table(ids, { grid: this.withGrid });
    const features: DecoderFeatures = { pooled: tf.tensor2d(table.pooled, [ids.length, this.featureDim]) };
    if (table.grid) features.grid = tf.tensor3d(table.grid, [ids.length, this.store.gridRegions, this.store.gridChannels]);
    return features;
  }

  dispose(): void {
    this.store.close();
  }
}
