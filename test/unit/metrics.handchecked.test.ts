/** Small cases whose metric values are worked out by hand in the comments. */
import { describe, expect, it } from 'vitest';
import { bleu, ciderD, lcsLength, rougeL, scoreCorpus, splitWords, type ScoringItem } from '../../src/main/lib/metrics';

const item = (imageId: string, candidate: string, ...references: string[]): ScoringItem => ({
  imageId,
  candidate,
  references,
});

describe('splitWords', () => {
  it('splits like Python str.split(): runs of Python whitespace, no empty words', () => {
    expect(splitWords('  a\u00a0red\x1ccircle\t\n')).toEqual(['a', 'red', 'circle']);
    // U+FEFF is whitespace to JavaScript's \s but not to Python.
    expect(splitWords('a\ufeffb c')).toEqual(['a\ufeffb', 'c']);
    expect(splitWords('')).toEqual([]);
  });
});

describe('BLEU (hand-checked)', () => {
  it('applies the brevity penalty and the 1e-15/1e-9 guards', () => {
    // "the cat sat" vs "the cat sat on the mat": every 1-, 2- and 3-gram matches
    // (p1 = p2 = p3 = 1); there is no 4-gram, so p4 = (0 + 1e-15) / (0 + 1e-9) = 1e-6.
    // Lengths 3 vs 6: ratio 0.5, BP = exp(1 - 1/0.5) = e^-1.
    const result = bleu([item('1', 'the cat sat', 'the cat sat on the mat')]);
    const bp = Math.exp(-1);
    expect(result.corpus[0]).toBeCloseTo(bp, 9);
    expect(result.corpus[1]).toBeCloseTo(bp, 9);
    expect(result.corpus[2]).toBeCloseTo(bp, 9);
    // BLEU-4 = (1 * 1 * 1 * 1e-6)^(1/4) * e^-1 = 0.0316228 * 0.3678794
    expect(result.corpus[3]).toBeCloseTo(1e-6 ** 0.25 * bp, 9);
  });

  it('clips candidate counts to the most any one reference has', () => {
    // "the" x4 against "the cat the": at most 2 count, p1 = 2/4; no bigram matches,
    // so p2 = 1e-15 / 3 and BLEU-2 is almost 0. Lengths 4 vs 3: no penalty.
    const result = bleu([item('1', 'the the the the', 'the cat the', 'a cat')]);
    expect(result.corpus[0]).toBeCloseTo(0.5, 9);
    expect(result.corpus[1]).toBeLessThan(1e-7);
  });

  it('takes the closest reference length, the shorter one on a tie', () => {
    // Candidate length 4, references 3 and 5: a tie, so 3 is used and ratio 4/3 >= 1
    // means no penalty: BLEU-1 = 4/4 = 1. (Had 5 been used: exp(1 - 5/4) = 0.7788.)
    const result = bleu([item('1', 'a b c d', 'a b c', 'a b c d e')]);
    expect(result.corpus[0]).toBeCloseTo(1, 9);
  });

  it('pools counts over the corpus instead of averaging images', () => {
    // Image 1: 2/2 unigrams match; image 2: 0/4. Corpus BLEU-1 = (2 + 0)/(2 + 4) = 1/3,
    // while the mean of per-image BLEU-1 would be (1 + 0)/2. Lengths equal: no penalty.
    const result = bleu([item('1', 'a b', 'a b'), item('2', 'c d e f', 'x y z w')]);
    expect(result.corpus[0]).toBeCloseTo(1 / 3, 9);
    // Image 1 alone: p1 = (2 + 1e-15)/(2 + 1e-9), just under 1, and the same guards make the length
    // ratio (2 + 1e-15)/(2 + 1e-9) < 1, so even equal lengths get a penalty of exp(1 - 1/ratio).
    const ratio = (2 + 1e-15) / (2 + 1e-9);
    expect(result.perImage[0]![0]).toBeCloseTo(ratio * Math.exp(1 - 1 / ratio), 15);
    expect(result.perImage[0]![0]).toBeLessThan(1);
    expect(result.perImage[1]![0]).toBeCloseTo(1e-15 / (4 + 1e-9), 20);
  });
});

describe('ROUGE-L (hand-checked)', () => {
  it('computes the LCS', () => {
    expect(lcsLength('a red circle on the left'.split(' '), 'a small red circle'.split(' '))).toBe(3);
    expect(lcsLength(['a'], [])).toBe(0);
  });

  it('is the F-measure with beta 1.2', () => {
    // LCS("a red circle on the left", "a small red circle") = 3 ("a red circle"):
    // P = 3/6 = 0.5, R = 3/4 = 0.75, F = (1 + 1.44) * 0.5 * 0.75 / (0.75 + 1.44 * 0.5) = 0.915 / 1.47.
    const result = rougeL([item('1', 'a red circle on the left', 'a small red circle')]);
    expect(result.corpus).toBeCloseTo(0.915 / 1.47, 12);
  });

  it('takes the best precision and the best recall separately over references', () => {
    // vs "a b": P = 2/4, R = 1. vs "a b c d e f g h": P = 1, R = 4/8.
    // coco-caption takes max P = 1 and max R = 1, so F = 1, although each reference alone gives less.
    const result = rougeL([item('1', 'a b c d', 'a b', 'a b c d e f g h')]);
    expect(result.corpus).toBeCloseTo(1, 12);
  });

  it('counts an empty word for a double space, as split(" ") does', () => {
    // "a  b" splits into ["a", "", "b"]: LCS with "a b" is 2, P = 2/3, R = 2/2,
    // F = 2.44 * (2/3) * 1 / (1 + 1.44 * 2/3) = 1.62667 / 1.96.
    const result = rougeL([item('1', 'a  b', 'a b')]);
    expect(result.corpus).toBeCloseTo((2.44 * (2 / 3)) / (1 + 1.44 * (2 / 3)), 12);
  });
});

describe('CIDEr-D (hand-checked)', () => {
  // Two images, so log(#images) = ln 2; every n-gram below is in the references of
  // exactly one image (df = 1), so every idf is ln 2 - ln 1 = ln 2 and cancels in the cosines.
  it('scores a perfect match 10 * mean(1, 1, 0, 0) = 5 and an unrelated caption 0', () => {
    // "red circle" vs "red circle": orders 1 and 2 have cosine 1; there are no 3- or 4-grams.
    const result = ciderD([item('a', 'red circle', 'red circle'), item('b', 'blue square', 'green star')]);
    expect(result.perImage[0]).toBeCloseTo(5, 12);
    expect(result.perImage[1]).toBeCloseTo(0, 12);
    expect(result.corpus).toBeCloseTo(2.5, 12);
  });

  it('applies the Gaussian length penalty on bigram counts', () => {
    // Candidate "red circle" (1 bigram) vs reference "red circle red circle" (3 bigrams): delta = -2,
    // penalty = exp(-4 / (2 * 36)). Order 1: the vectors (1, 1) and (2, 2) are parallel, cosine 1 (the
    // clipped sum is min(1,2)*2 + min(1,2)*2 = 4 over norms sqrt2 * sqrt8 = 4). Order 2: candidate
    // {"red circle": 1}, reference {"red circle": 2, "circle red": 1}: 1*2 / (1 * sqrt5).
    const result = ciderD([item('a', 'red circle', 'red circle red circle'), item('b', 'blue', 'green')]);
    const expected = 10 * ((1 + 2 / Math.sqrt(5)) / 4) * Math.exp(-4 / 72);
    expect(result.perImage[0]).toBeCloseTo(expected, 12);
  });

  it('clips candidate weights to the reference weights', () => {
    // "red red circle" vs "red circle". Order 1: candidate (red 2, circle 1), reference (1, 1):
    // clipped sum min(2,1)*1 + min(1,1)*1 = 2 over norms sqrt5 * sqrt2, i.e. 2/sqrt10 (0.632; unclipped
    // it would be 3/sqrt10). Order 2: {"red red", "red circle"} vs {"red circle"}: 1/sqrt2.
    // Bigram counts 2 vs 1: penalty exp(-1/72).
    const result = ciderD([item('a', 'red red circle', 'red circle'), item('b', 'blue', 'green')]);
    const expected = 10 * ((2 / Math.sqrt(10) + 1 / Math.sqrt(2)) / 4) * Math.exp(-1 / 72);
    expect(result.perImage[0]).toBeCloseTo(expected, 12);
  });

  it('gives n-grams found in every image\'s references no weight', () => {
    // "a" is in the references of both images: idf = ln 2 - ln 2 = 0, so it adds nothing; only
    // "dog" (idf ln 2) counts at order 1: cosine = 1 (candidate (a:0, dog:ln2) vs reference (a:0, dog:ln2)).
    // Order 2: "a dog" also appears only in image 1: cosine 1. Score 10 * (1 + 1)/4 = 5.
    const result = ciderD([item('1', 'a dog', 'a dog'), item('2', 'a cat', 'a bird')]);
    expect(result.perImage[0]).toBeCloseTo(5, 12);
    // Image 2: order 1 only "a" matches, with weight 0; order 2 "a cat" vs "a bird": 0.
    expect(result.perImage[1]).toBeCloseTo(0, 12);
  });

  it('is 0 on a one-image corpus (log 1 = 0 makes every weight 0)', () => {
    expect(ciderD([item('1', 'a dog', 'a dog')]).corpus).toBe(0);
  });
});

describe('input checks', () => {
  it('refuses an empty corpus and an image without references, naming the image', () => {
    expect(() => scoreCorpus([])).toThrow(/no images/);
    expect(() => scoreCorpus([item('42', 'a dog')])).toThrow(/image 42 has no reference/);
  });
});
