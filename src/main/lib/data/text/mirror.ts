/**
 * Caption side of the horizontal-flip augmentation: a mirrored image shows
 * the left object on the right, so the caption must swap the words too, or
 * the flip would teach the model wrong relations. Words with no side are
 * untouched.
 */
import type { Vocabulary } from './vocabulary';

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

export function mirrorToken(token: string): string {
  return MIRRORED[token] ?? token;
}

export function mirrorTokens(tokens: readonly string[]): string[] {
  return tokens.map(mirrorToken);
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
export function mirrorIdMap(vocabulary: Vocabulary): Int32Array {
  const map = new Int32Array(vocabulary.size);
  for (let id = 0; id < vocabulary.size; id++) map[id] = vocabulary.id(mirrorToken(vocabulary.token(id)));
  return map;
}

export function mirrorIds(ids: Int32Array, map: Int32Array): Int32Array {
  const out = new Int32Array(ids.length);
  for (let i = 0; i < ids.length; i++) out[i] = map[ids[i] as number] ?? (ids[i] as number);
  return out;
}
