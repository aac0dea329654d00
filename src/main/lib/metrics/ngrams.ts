/**
 * The pieces every coco-caption metric shares: how a tokenized caption is cut
 * into words and how its n-grams are counted. Pure TypeScript (no Node, no
 * tfjs) so the main process and the engine can both score captions.
 */

/**
 * Python's `str.split()` with no argument splits on runs of these characters
 * (the Unicode whitespace Python recognizes). JavaScript's `\s` differs
 * (it adds U+FEFF and lacks U+001C–U+001F and U+0085), so the set is spelled
 * out: BLEU and CIDEr-D must see exactly the words coco-caption sees.
 */
// eslint-disable-next-line no-control-regex -- U+001C..U+001F are whitespace to Python, on purpose here
const PYTHON_WHITESPACE = /[\t\n\v\f\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+/;

/** Words as coco-caption's `precook` sees them: `s.split()`. */
export function splitWords(caption: string): string[] {
  return caption.split(PYTHON_WHITESPACE).filter((word) => word.length > 0);
}

/**
 * Counts of every n-gram of order 1..maxOrder; `counts[k - 1]` holds the
 * k-grams, keyed by their words joined with a space (words never contain
 * whitespace, so the key is unambiguous).
 */
export type NgramCounts = Map<string, number>[];

export function countNgrams(words: readonly string[], maxOrder: number): NgramCounts {
  const counts: NgramCounts = Array.from({ length: maxOrder }, () => new Map<string, number>());
  // Each start position extends one key word by word: every n-gram costs one concatenation.
  for (let start = 0; start < words.length; start++) {
    let key = '';
    for (let order = 1; order <= maxOrder && start + order <= words.length; order++) {
      key = order === 1 ? words[start]! : `${key} ${words[start + order - 1]!}`;
      const table = counts[order - 1]!;
      table.set(key, (table.get(key) ?? 0) + 1);
    }
  }
  return counts;
}

/** One image to score: its candidate and its references, already tokenized (words joined by spaces). */
export interface ScoringItem {
  imageId: string;
  candidate: string;
  references: readonly string[];
}

/** coco-caption asserts these; we say which image broke them instead. */
export function assertScorable(items: readonly ScoringItem[], metric: string): void {
  if (items.length === 0) throw new Error(`${metric}: there are no images to score.`);
  for (const item of items) {
    if (item.references.length === 0) {
      throw new Error(`${metric}: image ${item.imageId} has no reference captions.`);
    }
  }
}

/** Plain left-to-right mean, as the scorers' per-image averages. */
export function mean(values: readonly number[]): number {
  let sum = 0;
  for (const value of values) sum += value;
  return sum / values.length;
}
