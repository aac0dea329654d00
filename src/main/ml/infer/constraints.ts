/**
 * Word bans shared by every strategy: never <pad> or <start>; no <end>
 * before `minLength` words; no repeated n-gram (`noRepeatNgramSize`). Bans
 * are a penalty added to the log-probabilities of banned (row, word) pairs.
 */
import * as tf from '@tensorflow/tfjs';
import { END_ID, PAD_ID, START_ID } from '../../lib/data/text/vocabulary';

export const BANNED = -1e9;

/** Words that would complete an n-gram already present in `history` (the caption so far). */
export function repeatedNgramBans(history: readonly number[], n: number): number[] {
  if (n <= 0 || history.length < n - 1) return [];
  if (n === 1) return [...new Set(history)];
  const prefix = history.slice(history.length - (n - 1)).join(',');
  const banned = new Set<number>();
  for (let start = 0; start + n <= history.length; start++) {
    if (history.slice(start, start + n - 1).join(',') === prefix) banned.add(history[start + n - 1]!);
  }
  return [...banned];
}

/**
 * logProbs [rows, V] with bans applied. `histories[r]` is row r's caption so
 * far; `wordsSoFar` the number of words generated (same for every row).
 */
export function applyBans(
  logProbs: tf.Tensor2D,
  histories: readonly (readonly number[])[],
  wordsSoFar: number,
  constraints: { minLength: number; noRepeatNgramSize: number },
): tf.Tensor2D {
  const [rows, vocab] = logProbs.shape;
  const always = new Float32Array(vocab);
  always[PAD_ID] = BANNED;
  always[START_ID] = BANNED;
  if (wordsSoFar < constraints.minLength) always[END_ID] = BANNED;
  let out = tf.add(logProbs, tf.tensor1d(always)) as tf.Tensor2D;
  if (constraints.noRepeatNgramSize > 0) {
    const indices: number[] = [];
    for (let row = 0; row < rows; row++) {
      for (const word of repeatedNgramBans(histories[row] ?? [], constraints.noRepeatNgramSize)) indices.push(row, word);
    }
    if (indices.length > 0) {
      const count = indices.length / 2;
      const penalty = tf.scatterND(tf.tensor2d(indices, [count, 2], 'int32'), tf.fill([count], BANNED), [rows, vocab]);
      out = tf.add(out, penalty) as tf.Tensor2D;
    }
  }
  return out;
}
