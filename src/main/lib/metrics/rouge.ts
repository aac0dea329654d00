/**
 * ROUGE-L exactly as coco-caption's `rouge.py`: words are `split(" ")` (a
 * double space makes an empty word, an empty caption is one empty word), the
 * LCS against each reference gives a precision and a recall, the best
 * precision and the best recall are taken separately over the references, and
 * F uses beta = 1.2. The corpus score is the mean over images.
 */
import { assertScorable, mean, type ScoringItem } from './ngrams';

export const ROUGE_BETA = 1.2;

export interface RougeResult {
  corpus: number;
  perImage: number[];
}

/** Length of the longest common subsequence (`my_lcs`). */
export function lcsLength(a: readonly string[], b: readonly string[]): number {
  const [long, short] = a.length >= b.length ? [a, b] : [b, a];
  // One row of the DP table at a time: row[j] = LCS(long[0..i), short[0..j)).
  let previous = new Array<number>(short.length + 1).fill(0);
  let current = new Array<number>(short.length + 1).fill(0);
  for (let i = 1; i <= long.length; i++) {
    for (let j = 1; j <= short.length; j++) {
      current[j] = long[i - 1] === short[j - 1] ? previous[j - 1]! + 1 : Math.max(previous[j]!, current[j - 1]!);
    }
    [previous, current] = [current, previous];
  }
  return previous[short.length]!;
}

/** `Rouge.calc_score` for one image. */
export function rougeLForImage(candidate: string, references: readonly string[]): number {
  const candidateWords = candidate.split(' ');
  let bestPrecision = -Infinity;
  let bestRecall = -Infinity;
  for (const reference of references) {
    const referenceWords = reference.split(' ');
    const lcs = lcsLength(referenceWords, candidateWords);
    bestPrecision = Math.max(bestPrecision, lcs / candidateWords.length);
    bestRecall = Math.max(bestRecall, lcs / referenceWords.length);
  }
  if (bestPrecision === 0 || bestRecall === 0) return 0;
  const beta2 = ROUGE_BETA ** 2;
  return ((1 + beta2) * bestPrecision * bestRecall) / (bestRecall + beta2 * bestPrecision);
}

export function rougeL(items: readonly ScoringItem[]): RougeResult {
  assertScorable(items, 'ROUGE-L');
  const perImage = items.map((item) => rougeLForImage(item.candidate, item.references));
  return { corpus: mean(perImage), perImage };
}
