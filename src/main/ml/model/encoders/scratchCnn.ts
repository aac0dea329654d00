/**
 * A small CNN trained from scratch together with the decoder: the offline
 * default, and enough for synthetic Shapes scenes. Four 3×3 convolutions
 * with ReLU (channels C, 2C, 4C, 8C), a 2×2 max-pool after each of the first
 * three, so a 64-pixel input gives an 8×8 grid of 8C-channel cells (the
 * attention decoder's regions) and their maximum (the pooled vector).
 * With a stem stride of 2 the first convolution is 5×5 at stride 2 instead:
 * an image twice the size gives the same grid, so small objects reach the
 * network with twice the pixels across (a star 8 pixels wide at 48 pixels
 * is 16 wide at 96) for a first layer about three times the cost.
 * With `coordinates`, every cell also carries its own x and y (−1 to 1,
 * left to right and top to bottom) as two extra channels: an attention
 * context is a weighted sum of cells, so it then says *where* the decoder
 * looked, not only what it saw ("at the top left", "left of").
 * With `directions`, every cell also carries what lies to its left, right,
 * above and below: a small learned summary of every cell (8 channels, a 1×1
 * convolution with ReLU) added up over the columns left of the cell's
 * column, those right of it, the rows above and the rows below (4 × 8
 * channels). A glimpse of one object then says whether anything lies to its
 * right, so "left of" is read from that object alone, whichever object the
 * caption names next.
 * With `gridCells`, the convolutions' grid is max-pooled to that many cells
 * along each side before the directions and coordinates are added (bins as
 * adaptive pooling cuts them: cell i covers rows ⌊i·n/N⌋ to ⌈(i+1)·n/N⌉).
 * A grid as coarse as the scene's own layout gives the attention one cell
 * per place an object can stand, so a glimpse holds one object, not the
 * part of it that one 8-pixel cell sees, nor its neighbour's.
 * With `separateCells` as well, the image is cut into those N×N tiles and
 * each tile goes through the convolutions alone (its own grid max-pooled to
 * one cell): a cell then sees only its own pixels. Pooled from one grid, an
 * empty cell still sees the objects beside it through the convolutions'
 * reach (38 pixels), so the attention can read an object from the cells
 * around it; apart, it can only read it from the object's own cell.
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
/** The first convolution's kernel edge at stride 2: it covers its stride twice over, plus a centre. */
const STRIDED_STEM_KERNEL = 5;
/** x and y, appended after the CNN's channels when `coordinates` is on. */
export const COORDINATE_CHANNELS = 2;
/** Learned summary channels of a cell that the direction sums add up. */
const SUMMARY_CHANNELS = 8;
/** left, right, above, below: each the summary channels added up over that side. */
export const DIRECTION_CHANNELS = 4 * SUMMARY_CHANNELS;

/** The channels a scratch CNN's grid adds after its convolutions, in the order they come: directions, then coordinates. */
export function addedChannels(options: { coordinates?: boolean; directions?: boolean }): number {
  return (options.directions ? DIRECTION_CHANNELS : 0) + (options.coordinates ? COORDINATE_CHANNELS : 0);
}

export interface ScratchCnnOptions {
  /** Edge of the square input in pixels (a multiple of 8). */
  inputSize: number;
  /** Channels of the first convolution; each block doubles them. */
  channels: number;
  /** 2: the first convolution is 5×5 at stride 2 (input a multiple of 16); 1 (the default): 3×3 at every pixel. */
  stemStride?: 1 | 2;
  /** Append each grid cell's x and y (−1..1) to its features (two channels). */
  coordinates?: boolean;
  /** Append what lies left, right, above and below each cell (4 × 8 learned channels). */
  directions?: boolean;
  /** Max-pool the grid to this many cells along each side (at most the convolutions' own grid); omitted: the convolutions' grid. */
  gridCells?: number;
  /** With `gridCells`: cut the image into that many tiles a side and convolve each alone, so a cell sees only its own pixels. */
  separateCells?: boolean;
}

/** [1, rows, cols, 2]: x (column) and y (row) of every cell, −1 at the left/top edge to 1 at the right/bottom. */
export function cellCoordinates(rows: number, cols: number): tf.Tensor4D {
  const at = (index: number, count: number) => (count === 1 ? 0 : (2 * index) / (count - 1) - 1);
  const values: number[] = [];
  for (let row = 0; row < rows; row++) for (let col = 0; col < cols; col++) values.push(at(col, cols), at(row, rows));
  return tf.tensor4d(values, [1, rows, cols, 2]);
}

/**
 * [B, n, S] → [B, n, S]: at position i, the sum of the positions before i
 * (after i with `reverse`). The cumulative sum runs over the last axis,
 * where tfjs' Cumsum gradient is right (over a middle axis it transposes
 * the gradient into the wrong shape).
 */
function sumsBefore(values: tf.Tensor3D, reverse: boolean): tf.Tensor3D {
  return tf.transpose(tf.cumsum(tf.transpose(values, [0, 2, 1]), 2, true, reverse), [0, 2, 1]) as tf.Tensor3D;
}

/** [B, n, n, C] → [B, N, N, C]: the maximum over each of N×N bins (neighbours share at most a row or column where N does not divide n). */
export function adaptiveMaxPool(x: tf.Tensor4D, cells: number): tf.Tensor4D {
  const size = x.shape[1];
  if (size % cells === 0) return tf.maxPool(x, size / cells, size / cells, 'valid');
  const bins = Array.from({ length: cells }, (_, i) => [Math.floor((i * size) / cells), Math.ceil(((i + 1) * size) / cells)] as const);
  const alongRows = tf.concat(bins.map(([from, to]) => tf.max(tf.slice(x, [0, from, 0, 0], [-1, to - from, -1, -1]), 1, true)), 1);
  return tf.concat(bins.map(([from, to]) => tf.max(tf.slice(alongRows, [0, 0, from, 0], [-1, -1, to - from, -1]), 2, true)), 2) as tf.Tensor4D;
}

/** [B, n, n, C] → [B·N², n/N, n/N, C]: the image cut into N×N tiles, row by row (tile i·N + j is row i, column j). */
export function tilesOf(images: tf.Tensor4D, cells: number): tf.Tensor4D {
  const [batch, size, , channels] = images.shape;
  const tile = size / cells;
  // [B, tile row, row in tile, tile column, column in tile · channels]
  const banded = tf.reshape(images, [batch, cells, tile, cells, tile * channels]);
  return tf.reshape(tf.transpose(banded, [0, 1, 3, 2, 4]), [batch * cells * cells, tile, tile, channels]) as tf.Tensor4D;
}

export class ScratchCnn implements FeatureEncoder {
  readonly params = new ParamSet();
  readonly spec: EncoderSpec;
  /** The coordinate channels [1, cells, cells, 2], when on. */
  private readonly coordinates: tf.Tensor4D | null;

  constructor(
    readonly options: ScratchCnnOptions,
    rng: Rng,
  ) {
    const stride = options.stemStride ?? 1;
    const downsampling = 8 * stride;
    if (options.inputSize % downsampling !== 0) {
      const why = stride === 1 ? '' : ` with encoder.scratchStemStride ${stride}`;
      throw new Error(`encoder.imageSize must be a multiple of ${downsampling} for the scratch CNN${why} (got ${options.inputSize}).`);
    }
    let inChannels = 3;
    for (let block = 0; block < BLOCKS; block++) {
      const outChannels = options.channels * 2 ** block;
      const kernel = block === 0 && stride > 1 ? STRIDED_STEM_KERNEL : 3;
      this.params.add(`conv${block}/kernel`, [kernel, kernel, inChannels, outChannels], { kind: 'he' }, rng);
      this.params.add(`conv${block}/bias`, [outChannels], { kind: 'zeros' }, rng);
      inChannels = outChannels;
    }
    if (options.directions) {
      this.params.add('directions/kernel', [inChannels, SUMMARY_CHANNELS], { kind: 'he' }, rng);
      this.params.add('directions/bias', [SUMMARY_CHANNELS], { kind: 'zeros' }, rng);
    }
    const convolvedCells = options.inputSize / downsampling;
    const cells = options.gridCells ?? convolvedCells;
    if (!Number.isInteger(cells) || cells < 1 || cells > convolvedCells) {
      throw new Error(`encoder.scratchGridCells must be between 1 and the CNN's own grid of ${convolvedCells} cells at ${options.inputSize} px (got ${cells}).`);
    }
    if (options.separateCells && (!options.gridCells || options.inputSize % (cells * downsampling) !== 0)) {
      throw new Error(
        `encoder.scratchSeparateCells needs encoder.scratchGridCells, and tiles whose edge (encoder.imageSize / cells) is a multiple of ${downsampling} pixels (got ${options.inputSize} px, ${options.gridCells ?? 0} cells).`,
      );
    }
    const featureChannels = inChannels + addedChannels(options);
    this.coordinates = options.coordinates ? cellCoordinates(cells, cells) : null;
    this.spec = {
      id: SCRATCH_CNN_ID,
      inputSize: options.inputSize,
      normalization: 'zero-to-one',
      pooledDim: featureChannels,
      gridShape: [cells, cells, featureChannels],
    };
  }

  encode(images: tf.Tensor4D, _training = false): EncodedBatch {
    return tf.tidy(() => {
      const cells = this.spec.gridShape[0];
      let x: tf.Tensor4D = this.options.separateCells ? tilesOf(images, cells) : images;
      for (let block = 0; block < BLOCKS; block++) {
        const stride = block === 0 ? (this.options.stemStride ?? 1) : 1;
        x = tf.relu(
          tf.conv2d(x, this.params.get(`conv${block}/kernel`) as tf.Tensor4D, stride, 'same').add(this.params.get(`conv${block}/bias`)),
        ) as tf.Tensor4D;
        if (block < BLOCKS - 1) x = tf.maxPool(x, 2, 2, 'valid');
      }
      if (this.options.separateCells) x = tf.reshape(tf.max(x, [1, 2]), [images.shape[0], cells, cells, -1]) as tf.Tensor4D;
      else if (x.shape[1] !== cells) x = adaptiveMaxPool(x, cells);
      if (this.options.directions) x = tf.concat([x, this.directionSums(x)], 3) as tf.Tensor4D;
      if (this.coordinates) x = tf.concat([x, tf.tile(this.coordinates, [x.shape[0], 1, 1, 1])], 3) as tf.Tensor4D;
      const [batch, rows, cols, channels] = x.shape;
      const grid = tf.reshape(x, [batch, rows * cols, channels]) as tf.Tensor3D;
      // Max rather than mean over the cells: in sparse scenes (a few small
      // objects on a plain background) a mean is dominated by the background.
      return { grid, pooled: tf.max(grid, 1) as tf.Tensor2D };
    });
  }

  /**
   * [B, rows, cols, 4·S]: per cell, the summaries of all cells in the columns
   * left of it, right of it, the rows above and below it. Column and row
   * totals are means over the cells they add up, so a side's value is about
   * the share of the grid that holds something, whatever the grid's size.
   */
  private directionSums(x: tf.Tensor4D): tf.Tensor4D {
    const [batch, rows, cols] = x.shape;
    const kernel = tf.reshape(this.params.get('directions/kernel'), [1, 1, -1, SUMMARY_CHANNELS]) as tf.Tensor4D;
    const summary = tf.relu(tf.add(tf.conv2d(x, kernel, 1, 'same'), this.params.get('directions/bias'))) as tf.Tensor4D;
    const perColumn = tf.mean(summary, 1) as tf.Tensor3D; // [B, cols, S]
    const perRow = tf.mean(summary, 2) as tf.Tensor3D; // [B, rows, S]
    const alongColumns = (sums: tf.Tensor) => tf.tile(tf.expandDims(sums, 1), [1, rows, 1, 1]);
    const alongRows = (sums: tf.Tensor) => tf.tile(tf.expandDims(sums, 2), [1, 1, cols, 1]);
    const left = alongColumns(sumsBefore(perColumn, false));
    const right = alongColumns(sumsBefore(perColumn, true));
    const above = alongRows(sumsBefore(perRow, false));
    const below = alongRows(sumsBefore(perRow, true));
    return tf.reshape(tf.concat([left, right, above, below], 3), [batch, rows, cols, DIRECTION_CHANNELS]) as tf.Tensor4D;
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
    this.coordinates?.dispose();
  }
}
