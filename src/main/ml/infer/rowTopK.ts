/**
 * The k largest values of every row of a wide matrix (beam search's logits,
 * [rows, vocabulary]) and the row maxima, without a top-k over the whole
 * row. TopK over [320, 5000] scans every element with a comparison per
 * element and took as long as the vocabulary projection's log-sum-exp; a max
 * over blocks of the row is a plain vectorized reduction.
 *
 * The row is cut into blocks of `blockSize`; the k blocks with the largest
 * maxima (lower block first among equal maxima) hold the row's k largest
 * values, and a top-k over just those blocks, laid out in the row's order,
 * picks them. It is the same selection as `tf.topk(x, k)` (values in
 * descending order, the lower index first among equal values), ties
 * included: every value above the k-th largest block maximum t lies in a
 * chosen block, and the chosen blocks whose maximum is t, the lowest of
 * those, each hold a value t at a lower index than any unchosen block's t,
 * at least as many as the top k still needs. Padding at the row's end is
 * -Infinity, behind any value, equal ones included.
 */
import * as tf from '@tensorflow/tfjs';

export interface RowTopK {
  /** Each row's maximum [rows, 1]. */
  max: tf.Tensor2D;
  /** The k largest values of each row, largest first [rows, k]. */
  values: tf.Tensor2D;
  /** Where they are: word = blocks[row, ⌊position / blockSize⌋] · blockSize + position mod blockSize. */
  positions: tf.Tensor2D;
  /** The chosen blocks of each row in ascending order [rows, ≤ k]; null when the row was searched whole (positions are columns). */
  blocks: tf.Tensor2D | null;
  blockSize: number;
}

/** Below this width a plain top-k is as fast. */
const BLOCKED_FROM = 1024;

/** A block size for rows of `width`: a divisor near 32 when there is one (no padding), else 32. */
export function blockSizeFor(width: number): number {
  for (let offset = 0; offset <= 16; offset++) {
    for (const size of [32 - offset, 32 + offset]) if (width % size === 0) return size;
  }
  return 32;
}

export function rowTopK(x: tf.Tensor2D, k: number): RowTopK {
  const [rows, width] = x.shape;
  const blockSize = blockSizeFor(width);
  const blocks = Math.ceil(width / blockSize);
  if (width < BLOCKED_FROM || k * 4 > blocks) {
    const top = tf.topk(x, k, true);
    return { max: tf.max(x, 1, true) as tf.Tensor2D, values: top.values as tf.Tensor2D, positions: top.indices as tf.Tensor2D, blocks: null, blockSize: width };
  }
  return tf.tidy(() => {
    const padded = blocks * blockSize === width ? x : tf.pad(x, [[0, 0], [0, blocks * blockSize - width]], -Infinity);
    const cut = tf.reshape(padded, [rows, blocks, blockSize]);
    const blockMax = tf.max(cut, 2) as tf.Tensor2D;
    const max = tf.max(blockMax, 1, true) as tf.Tensor2D;
    const chosen = tf.topk(blockMax, k, true).indices;
    // In the row's order, so that the second top-k breaks ties by the lower index as one over the whole row does.
    const ascending = tf.cast(tf.neg(tf.topk(tf.neg(tf.cast(chosen, 'float32')), k, true).values), 'int32') as tf.Tensor2D;
    const flat = tf.add(ascending, tf.mul(tf.range(0, rows, 1, 'int32'), tf.scalar(blocks, 'int32')).reshape([rows, 1]));
    const gathered = tf.reshape(tf.gather(tf.reshape(cut, [rows * blocks, blockSize]), tf.reshape(flat, [-1])), [rows, k * blockSize]);
    const top = tf.topk(gathered, k, true);
    return { max, values: top.values as tf.Tensor2D, positions: top.indices as tf.Tensor2D, blocks: ascending, blockSize };
  });
}

/** The column of every position of `rowTopK`'s result, read on the host: [rows × k]. */
export function columnsOf(positions: ArrayLike<number>, blocks: ArrayLike<number> | null, k: number, blockSize: number): Int32Array {
  const out = new Int32Array(positions.length);
  for (let i = 0; i < positions.length; i++) {
    const position = positions[i]!;
    if (!blocks) {
      out[i] = position;
      continue;
    }
    const row = Math.floor(i / k);
    out[i] = blocks[row * k + Math.floor(position / blockSize)]! * blockSize + (position % blockSize);
  }
  return out;
}
