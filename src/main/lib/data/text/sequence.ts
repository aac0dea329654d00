/**
 * Captions as fixed-length id sequences for the decoder.
 *
 * Truncation rule: `maxLength` counts words, not the special tokens. A caption
 * of n words becomes `<start> w1 … wk <end>` with k = min(n, maxLength),
 * padded with `<pad>` to maxLength + 2 ids. Words past maxLength are dropped
 * but `<end>` is always kept, so the model still learns where to stop.
 */
import { END_ID, PAD_ID, START_ID, type Vocabulary } from './vocabulary';

/** Length of every encoded sequence for a given word budget. */
export function sequenceLength(maxLength: number): number {
  return maxLength + 2;
}

export function encodeTokens(tokens: readonly string[], vocabulary: Vocabulary, maxLength: number): Int32Array {
  if (!Number.isInteger(maxLength) || maxLength < 1) throw new RangeError(`maxLength must be an integer ≥ 1 (got ${maxLength}).`);
  const out = new Int32Array(sequenceLength(maxLength)).fill(PAD_ID);
  const kept = Math.min(tokens.length, maxLength);
  out[0] = START_ID;
  for (let i = 0; i < kept; i++) out[i + 1] = vocabulary.id(tokens[i] as string);
  out[kept + 1] = END_ID;
  return out;
}

/**
 * The smallest word budget that keeps `coverage` of the captions whole
 * (e.g. 0.95): a data-driven default for maxLength.
 */
export function lengthCovering(lengths: readonly number[], coverage: number): number {
  if (lengths.length === 0) return 1;
  const sorted = [...lengths].sort((a, b) => a - b);
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil(coverage * sorted.length) - 1));
  return Math.max(1, sorted[index] as number);
}
