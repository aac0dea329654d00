/**
 * What the feature cache and the training loop need from an image encoder.
 * Implemented by the small from-scratch CNN and by pretrained backbones
 * (tfjs layers or graph models); all tensors stay inside the engine process.
 */
import type * as tf from '@tensorflow/tfjs';

import type { Normalization } from '../../lib/data/images/normalize';

export type { Normalization };

export interface EncoderSpec {
  /** Stable identifier, e.g. `scratch-cnn` or `mobilenet_v2`. */
  id: string;
  /** Edge length of the square input, e.g. 224. */
  inputSize: number;
  normalization: Normalization;
  /** Length of the pooled vector. */
  pooledDim: number;
  /** Spatial grid as [rows, cols, channels] for attention decoders. */
  gridShape: [number, number, number];
}

export interface EncodedBatch {
  /** [batch, pooledDim] */
  pooled: tf.Tensor2D;
  /** [batch, rows * cols, channels] */
  grid: tf.Tensor3D;
}

export interface FeatureEncoder {
  readonly spec: EncoderSpec;
  /** Hash of the weights: part of the feature-cache key, so new weights invalidate old features. */
  weightsHash(): string;
  /** Encodes normalized images [batch, size, size, 3]; the caller disposes the result. */
  encode(images: tf.Tensor4D, training?: boolean): EncodedBatch;
}
