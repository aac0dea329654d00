/**
 * CIDEr-D exactly as coco-caption's `cider_scorer.py`: TF-IDF vectors of
 * 1..4-grams with document frequencies counted over the references of the
 * evaluated set (idf = log(#images) - log(max(1, df))), the candidate's
 * weights clipped to the reference's, a Gaussian length penalty with sigma 6,
 * the mean over n, the mean over references, times 10.
 *
 * One quirk is kept on purpose, because it is what the published numbers use:
 * the "length" in the penalty counts the caption's bigrams (`if n == 1` on
 * a 0-based order), not its words.
 */
import { assertScorable, countNgrams, mean, splitWords, type NgramCounts, type ScoringItem } from './ngrams';

export const CIDER_SIGMA = 6;
export const CIDER_MAX_ORDER = 4;

export interface CiderResult {
  corpus: number;
  perImage: number[];
}

interface TfIdfVector {
  weights: Map<string, number>[];
  norms: number[];
  length: number;
}

/** Number of images whose references contain each n-gram (`compute_doc_freq`). */
function documentFrequencies(cookedReferences: readonly NgramCounts[][]): Map<string, number> {
  const frequencies = new Map<string, number>();
  for (const references of cookedReferences) {
    const seen = new Set<string>();
    for (const counts of references) for (const table of counts) for (const ngram of table.keys()) seen.add(ngram);
    for (const ngram of seen) frequencies.set(ngram, (frequencies.get(ngram) ?? 0) + 1);
  }
  return frequencies;
}

/** `counts2vec`: term frequency times idf per order, the norms, and the bigram count. */
function toVector(counts: NgramCounts, frequencies: Map<string, number>, logImages: number): TfIdfVector {
  const weights: Map<string, number>[] = [];
  const norms: number[] = [];
  let length = 0;
  counts.forEach((table, order) => {
    const orderWeights = new Map<string, number>();
    let squared = 0;
    for (const [ngram, termFrequency] of table) {
      const df = Math.log(Math.max(1, frequencies.get(ngram) ?? 0));
      const weight = termFrequency * (logImages - df);
      orderWeights.set(ngram, weight);
      squared += weight ** 2;
      if (order === 1) length += termFrequency;
    }
    weights.push(orderWeights);
    norms.push(Math.sqrt(squared));
  });
  return { weights, norms, length };
}

/** `sim`: clipped cosine similarity per order with the Gaussian length penalty. */
function similarity(candidate: TfIdfVector, reference: TfIdfVector, sigma: number): number[] {
  const delta = candidate.length - reference.length;
  const penalty = Math.E ** (-(delta ** 2) / (2 * sigma ** 2));
  return candidate.weights.map((orderWeights, order) => {
    const referenceWeights = reference.weights[order]!;
    let value = 0;
    for (const [ngram, weight] of orderWeights) {
      const referenceWeight = referenceWeights.get(ngram) ?? 0;
      value += Math.min(weight, referenceWeight) * referenceWeight;
    }
    const candidateNorm = candidate.norms[order]!;
    const referenceNorm = reference.norms[order]!;
    if (candidateNorm !== 0 && referenceNorm !== 0) value /= candidateNorm * referenceNorm;
    return value * penalty;
  });
}

export function ciderD(items: readonly ScoringItem[], options: { sigma?: number; maxOrder?: number } = {}): CiderResult {
  assertScorable(items, 'CIDEr-D');
  const sigma = options.sigma ?? CIDER_SIGMA;
  const maxOrder = options.maxOrder ?? CIDER_MAX_ORDER;
  const cookedReferences = items.map((item) => item.references.map((reference) => countNgrams(splitWords(reference), maxOrder)));
  const frequencies = documentFrequencies(cookedReferences);
  const logImages = Math.log(items.length);
  const perImage = items.map((item, index) => {
    const candidate = toVector(countNgrams(splitWords(item.candidate), maxOrder), frequencies, logImages);
    const summed = new Array<number>(maxOrder).fill(0);
    for (const counts of cookedReferences[index]!) {
      const perOrder = similarity(candidate, toVector(counts, frequencies, logImages), sigma);
      perOrder.forEach((value, order) => (summed[order]! += value));
    }
    return (mean(summed) / item.references.length) * 10;
  });
  return { corpus: mean(perImage), perImage };
}
