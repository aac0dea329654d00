/**
 * BLEU-1..4 exactly as coco-caption's `bleu_scorer.py` computes it with
 * `option='closest'`: corpus-level clipped n-gram precisions, the reference
 * length closest to each candidate (ties go to the shorter reference), no
 * smoothing beyond the scorer's own 1e-15 / 1e-9 guards, and the brevity
 * penalty on the summed lengths. Per-image scores use the same formula on one
 * image, as `bleu_list` does.
 */
import { assertScorable, countNgrams, splitWords, type ScoringItem } from './ngrams';

/** The constants of `BleuScorer.compute_score`; they keep 0/0 finite. */
const SMALL = 1e-9;
const TINY = 1e-15;

interface CookedImage {
  testLength: number;
  refLength: number;
  /** Candidate n-grams of each order (max(0, len - k + 1)). */
  guess: number[];
  /** Candidate n-grams of each order matched, clipped by the max count in any one reference. */
  correct: number[];
}

export interface BleuResult {
  /** BLEU-1..maxOrder over the whole corpus. */
  corpus: number[];
  /** `perImage[i][k - 1]`: BLEU-k of image i alone. */
  perImage: number[][];
}

/** `cook_refs` + `cook_test` with eff=None, then `_single_reflen(..., 'closest')`. */
function cookImage(item: ScoringItem, maxOrder: number): CookedImage {
  const refLengths: number[] = [];
  const maxCounts: Map<string, number>[] = Array.from({ length: maxOrder }, () => new Map());
  for (const reference of item.references) {
    const words = splitWords(reference);
    refLengths.push(words.length);
    countNgrams(words, maxOrder).forEach((table, index) => {
      const clip = maxCounts[index]!;
      for (const [ngram, count] of table) clip.set(ngram, Math.max(clip.get(ngram) ?? 0, count));
    });
  }
  const words = splitWords(item.candidate);
  const testLength = words.length;
  const guess: number[] = [];
  const correct: number[] = [];
  countNgrams(words, maxOrder).forEach((table, index) => {
    guess.push(Math.max(0, testLength - index));
    let matched = 0;
    for (const [ngram, count] of table) matched += Math.min(maxCounts[index]!.get(ngram) ?? 0, count);
    correct.push(matched);
  });
  return { testLength, refLength: closestLength(refLengths, testLength), guess, correct };
}

/** `min((abs(l - testlen), l) for l in reflens)[1]`: nearest length, the shorter on a tie. */
function closestLength(refLengths: readonly number[], testLength: number): number {
  let best = refLengths[0]!;
  for (const length of refLengths) {
    const distance = Math.abs(length - testLength);
    const bestDistance = Math.abs(best - testLength);
    if (distance < bestDistance || (distance === bestDistance && length < best)) best = length;
  }
  return best;
}

/** Geometric means of the running precision product, then the brevity penalty. */
function bleuFromCounts(correct: readonly number[], guess: readonly number[], testLength: number, refLength: number): number[] {
  const scores: number[] = [];
  let product = 1;
  for (let k = 0; k < correct.length; k++) {
    product *= (correct[k]! + TINY) / (guess[k]! + SMALL);
    scores.push(product ** (1 / (k + 1)));
  }
  const ratio = (testLength + TINY) / (refLength + SMALL);
  if (ratio < 1) {
    const penalty = Math.exp(1 - 1 / ratio);
    for (let k = 0; k < scores.length; k++) scores[k] = scores[k]! * penalty;
  }
  return scores;
}

export function bleu(items: readonly ScoringItem[], maxOrder = 4): BleuResult {
  assertScorable(items, 'BLEU');
  const totalCorrect = new Array<number>(maxOrder).fill(0);
  const totalGuess = new Array<number>(maxOrder).fill(0);
  let totalTest = 0;
  let totalRef = 0;
  const perImage: number[][] = [];
  for (const item of items) {
    const cooked = cookImage(item, maxOrder);
    totalTest += cooked.testLength;
    totalRef += cooked.refLength;
    for (let k = 0; k < maxOrder; k++) {
      totalCorrect[k]! += cooked.correct[k]!;
      totalGuess[k]! += cooked.guess[k]!;
    }
    perImage.push(bleuFromCounts(cooked.correct, cooked.guess, cooked.testLength, cooked.refLength));
  }
  return { corpus: bleuFromCounts(totalCorrect, totalGuess, totalTest, totalRef), perImage };
}
