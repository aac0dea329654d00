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

/** Dynamic-programming table of longest common subsequence lengths of suffixes. */
function lcsTable(a: readonly string[], b: readonly string[]): Uint16Array[] {
  const table = Array.from({ length: a.length + 1 }, () => new Uint16Array(b.length + 1));
  for (let i = a.length - 1; i >= 0; i--) {
    for (let j = b.length - 1; j >= 0; j--) {
      table[i]![j] = a[i] === b[j] ? table[i + 1]![j + 1]! + 1 : Math.max(table[i + 1]![j]!, table[i]![j + 1]!);
    }
  }
  return table;
}

/** Positions of `a` that belong to one longest common subsequence with `b`. */
export function matchedPositions(a: readonly string[], b: readonly string[]): boolean[] {
  const table = lcsTable(a, b);
  const matched = new Array<boolean>(a.length).fill(false);
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    if (a[i] === b[j]) {
      matched[i] = true;
      i++;
      j++;
    } else if (table[i + 1]![j]! >= table[i]![j + 1]!) i++;
    else j++;
  }
  return matched;
}

/** 2·LCS / (|a| + |b|): 1 for the same words in the same order, 0 for none in common. */
export function similarity(a: readonly string[], b: readonly string[]): number {
  if (a.length + b.length === 0) return 1;
  return (2 * lcsTable(a, b)[0]![0]!) / (a.length + b.length);
}

export interface CaptionAgreement {
  /** Per caption, its words with `differs` set where some other caption lacks them. */
  words: CaptionWord[][];
  /** 1 − the mean pairwise similarity; 0 when there is only one caption. */
  disagreement: number;
}

/** Marks, for every caption, the words that are not matched in every other caption. */
export function compareCaptions(captions: readonly string[]): CaptionAgreement {
  const shown = captions.map(displayWords);
  const keys = shown.map((words) => words.map(comparable));
  const words = shown.map((display, i) => {
    const differs = new Array<boolean>(display.length).fill(false);
    keys.forEach((other, j) => {
      if (i === j) return;
      matchedPositions(keys[i]!, other).forEach((matched, position) => {
        if (!matched) differs[position] = true;
      });
    });
    return display.map((text, position) => ({ text, differs: differs[position]! }));
  });
  let total = 0;
  let pairs = 0;
  for (let i = 0; i < keys.length; i++) {
    for (let j = i + 1; j < keys.length; j++) {
      total += similarity(keys[i]!, keys[j]!);
      pairs++;
    }
  }
  return { words, disagreement: pairs === 0 ? 0 : 1 - total / pairs };
}
