/**
 * Word-level agreement between captions of one image: which words of each
 * caption the others do not say (for highlighting), and how far apart the
 * captions are overall (for sorting by disagreement). Words are compared
 * case-insensitively without punctuation; what is shown keeps the caption's
 * own spelling.
 */
import type { CaptionWord } from '../../shared/contract/compare';

/** The caption's words as written, split on whitespace. */
export function displayWords(caption: string): string[] {
  return caption.split(/\s+/).filter(Boolean);
}

/** The form two words are compared in: lower case, letters and digits only. */
export function comparable(word: string): string {
  return word.toLowerCase().replace(/[^\p{L}\p{N}]+/gu, '');
}

/**
 * Longest-common-subsequence lengths of all suffix pairs, flat: cell (i, j)
 * at `i * (b.length + 1) + j` holds the LCS length of a[i..] and b[j..].
 */
function lcsTable<T>(a: readonly T[], b: readonly T[]): Uint16Array {
  const width = b.length + 1;
  const table = new Uint16Array((a.length + 1) * width);
  for (let i = a.length - 1; i >= 0; i--) {
    for (let j = b.length - 1; j >= 0; j--) {
      const here = i * width + j;
      table[here] = a[i] === b[j] ? table[here + width + 1]! + 1 : Math.max(table[here + width]!, table[here + 1]!);
    }
  }
  return table;
}

/** One longest common subsequence of `a` and `b`: which positions of each take part in it. */
function alignment<T>(a: readonly T[], b: readonly T[]): { inA: boolean[]; inB: boolean[]; length: number } {
  const table = lcsTable(a, b);
  const width = b.length + 1;
  const inA = new Array<boolean>(a.length).fill(false);
  const inB = new Array<boolean>(b.length).fill(false);
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    if (a[i] === b[j]) {
      inA[i] = true;
      inB[j] = true;
      i++;
      j++;
    } else if (table[(i + 1) * width + j]! >= table[i * width + j + 1]!) i++;
    else j++;
  }
  return { inA, inB, length: table[0]! };
}

/** Positions of `a` that belong to one longest common subsequence with `b`. */
export function matchedPositions(a: readonly string[], b: readonly string[]): boolean[] {
  return alignment(a, b).inA;
}

/** 2·LCS / (|a| + |b|): 1 for the same words in the same order, 0 for none in common. */
export function similarity(a: readonly string[], b: readonly string[]): number {
  if (a.length + b.length === 0) return 1;
  return (2 * lcsTable(a, b)[0]!) / (a.length + b.length);
}

export interface CaptionAgreement {
  /** Per caption, its words with `differs` set where some other caption lacks them. */
  words: CaptionWord[][];
  /** 1 − the mean pairwise similarity; 0 when there is only one caption. */
  disagreement: number;
}

/**
 * Marks, for every caption, the words that are not matched in every other
 * caption. Each pair is aligned once; that one alignment marks both sides
 * and gives the pair's similarity.
 */
export function compareCaptions(captions: readonly string[]): CaptionAgreement {
  const shown = captions.map(displayWords);
  // Words as small integers: the alignments then compare numbers, not strings.
  const ids = new Map<string, number>();
  const keys = shown.map((words) =>
    words.map((word) => {
      const key = comparable(word);
      let id = ids.get(key);
      if (id === undefined) ids.set(key, (id = ids.size));
      return id;
    }),
  );
  const differs = shown.map((words) => new Array<boolean>(words.length).fill(false));
  let total = 0;
  let pairs = 0;
  for (let i = 0; i < keys.length; i++) {
    for (let j = i + 1; j < keys.length; j++) {
      const a = keys[i]!;
      const b = keys[j]!;
      const { inA, inB, length } = alignment(a, b);
      for (let position = 0; position < inA.length; position++) if (!inA[position]) differs[i]![position] = true;
      for (let position = 0; position < inB.length; position++) if (!inB[position]) differs[j]![position] = true;
      total += a.length + b.length === 0 ? 1 : (2 * length) / (a.length + b.length);
      pairs++;
    }
  }
  return {
    words: shown.map((words, i) => words.map((text, position) => ({ text, differs: differs[i]![position]! }))),
    disagreement: pairs === 0 ? 0 : 1 - total / pairs,
  };
}
