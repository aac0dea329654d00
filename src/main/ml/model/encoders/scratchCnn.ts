/**
 * A small CNN trained from scratch together with the decoder: the offline
 * default, and enough for synthetic Shapes scenes. Four 3×3 convolutions
 * with ReLU (channels C, 2C, 4C, 8C), a 2×2 max-pool after each of the first
 * three, so a 64-pixel input gives an 8×8 grid of 8C-channel cells (the
 * attention decoder's regions) and their maximum (the pooled vector).
 * Weights live in a ParamSet, so they train, checkpoint and restore exactly
 * like the decoder's.
 */
import * as tf from '@tensorflow/tfjs';
import { createHash } from 'node:crypto';
import type { EncodedBatch, EncoderSpec, FeatureEncoder } from '../../features/encoder';
import { ParamSet } from '../params';
import type { Rng } from '../rng';

export const SCRATCH_CNN_ID = 'scratch-cnn';
const BLOCKS = 4;

export interface ScratchCnnOptions {
  /** Edge of the square input in pixels (a multiple of 8). */
  inputSize: number;
  /** Channels of the first convolution; each block doubles them. */
  channels: number;
}

export class ScratchCnn implements FeatureEncoder {
  readonly params = new ParamSet();
  readonly spec: EncoderSpec;

  constructor(
    readonly options: ScratchCnnOptions,
    rng: Rng,
  ) {
    if (options.inputSize % 8 !== 0) throw new Error(`encoder.imageSize must be a multiple of 8 for the scratch CNN (got ${options.inputSize}).`);
    let inChannels = 3;
    for (let block = 0; block < BLOCKS; block++) {
      const outChannels = options.channels * 2 ** block;
      this.params.add(`conv${block}/kernel`, [3, 3, inChannels, outChannels], { kind: 'he' }, rng);
      this.params.add(`conv${block}/bias`, [outChannels], { kind: 'zeros' }, rng);
      inChannels = outChannels;
    }
    const cells = options.inputSize / 8;
    this.spec = {
      id: SCRATCH_CNN_ID,
      inputSize: options.inputSize,
      normalization: 'zero-to-one',
      pooledDim: inChannels,
      gridShape: [cells, cells, inChannels],
    };
  }

  encode(images: tf.Tensor4D, _training = false): EncodedBatch {
    return tf.tidy(() => {
      let x: tf.Tensor4D = images;
      for (let block = 0; block < BLOCKS; block++) {
        x = tf.relu(
          tf.conv2d(x, this.params.get(`conv${block}/kernel`) as tf.Tensor4D, 1, 'same').add(this.params.get(`conv${block}/bias`)),
        ) as tf.Tensor4D;
        if (block < BLOCKS - 1) x = tf.maxPool(x, 2, 2, 'valid');
      }
      const [batch, rows, cols, channels] = x.shape;
      const grid = tf.reshape(x, [batch, rows * cols, channels]) as tf.Tensor3D;
      // Max rather than mean over the cells: in sparse scenes (a few small
      // objects on a plain background) a mean is dominated by the background.
      return { grid, pooled: tf.max(grid, 1) as tf.Tensor2D };
    });
  }

  /** Changes whenever the weights do (reads them back; for cache keys and checks, not per step). */
  weightsHash(): string {
    const hash = createHash('sha256');
    for (const [name, variable] of this.params.entries()) {
      hash.update(name);
      hash.update(Buffer.from((variable.dataSync() as Float32Array).buffer));
    }
    return hash.digest('hex');
  }

  dispose(): void {
    this.params.dispose();
  }
}
