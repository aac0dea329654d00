/**
 * Caption side of the flip augmentations: a mirrored image shows the left
 * object on the right (or, flipped top to bottom, the upper object below),
 * so the caption must swap the words too, or the flip would teach the model
 * wrong relations. Words with no side are untouched.
 */
import type { Vocabulary } from './vocabulary';

/** Which way an image is mirrored: left to right, or top to bottom. */
export type MirrorAxis = 'horizontal' | 'vertical';

const MIRRORED: Record<string, string> = {
  left: 'right',
  right: 'left',
  leftmost: 'rightmost',
  rightmost: 'leftmost',
  'left-hand': 'right-hand',
  'right-hand': 'left-hand',
  leftward: 'rightward',
  rightward: 'leftward',
  leftwards: 'rightwards',
  rightwards: 'leftwards',
};

/**
 * Top to bottom. "beneath" has no one-word opposite but "above", so a
 * flipped "beneath" reads "above" and a flipped "above" reads "below": the
 * words change, the truth does not.
 */
const FLIPPED: Record<string, string> = {
  above: 'below',
  below: 'above',
  over: 'under',
  under: 'over',
  beneath: 'above',
  top: 'bottom',
  bottom: 'top',
  upper: 'lower',
  lower: 'upper',
  topmost: 'bottommost',
  bottommost: 'topmost',
  upward: 'downward',
  downward: 'upward',
  upwards: 'downwards',
  downwards: 'upwards',
};

export function mirrorToken(token: string, axis: MirrorAxis = 'horizontal'): string {
  return (axis === 'horizontal' ? MIRRORED : FLIPPED)[token] ?? token;
}

export function mirrorTokens(tokens: readonly string[], axis: MirrorAxis = 'horizontal'): string[] {
  return tokens.map((token) => mirrorToken(token, axis));
}

/** Swaps side words in raw text, keeping the capitalization of the first letter. */
export function mirrorCaption(text: string): string {
  return text.replace(/\b(left|right)(most|-hand|wards?)?\b/gi, (word: string) => {
    const swapped = mirrorToken(word.toLowerCase());
    return word[0] === word[0]?.toUpperCase() ? swapped[0]?.toUpperCase() + swapped.slice(1) : swapped;
  });
}

/**
 * id → mirrored id for a vocabulary: applied to encoded captions when their
 * image is flipped. A side word whose mirror is not in the vocabulary becomes
 * `<unk>`: keeping it would state the wrong side.
 */
export function mirrorIdMap(vocabulary: Vocabulary, axis: MirrorAxis = 'horizontal'): Int32Array {
  const map = new Int32Array(vocabulary.size);
  for (let id = 0; id < vocabulary.size; id++) map[id] = vocabulary.id(mirrorToken(vocabulary.token(id), axis));
  return map;
}

export function mirrorIds(ids: Int32Array, map: Int32Array): Int32Array {
  const out = new Int32Array(ids.length);
  for (let i = 0; i < ids.length; i++) out[i] = map[ids[i] as number] ?? (ids[i] as number);
  return out;
}
