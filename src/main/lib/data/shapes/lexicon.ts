/**
 * The Shapes vocabulary: every word the caption grammar may use for a
 * concept, and the reverse maps the grounded scorer parses captions with.
 * Kept small on purpose: the benchmark tests grounding, not word coverage.
 */
import type { Relation, Shape, Size } from './scene';

/** Singular and plural forms per shape; the first is the canonical name. */
export const SHAPE_WORDS: Record<Shape, { singular: string; plural: string }[]> = {
  circle: [{ singular: 'circle', plural: 'circles' }, { singular: 'disc', plural: 'discs' }],
  square: [{ singular: 'square', plural: 'squares' }, { singular: 'box', plural: 'boxes' }],
  triangle: [{ singular: 'triangle', plural: 'triangles' }],
  star: [{ singular: 'star', plural: 'stars' }],
  cross: [{ singular: 'cross', plural: 'crosses' }],
  diamond: [{ singular: 'diamond', plural: 'diamonds' }, { singular: 'rhombus', plural: 'rhombuses' }],
};

export const SIZE_WORDS: Record<Size, string[]> = { small: ['small', 'little'], large: ['large', 'big'] };

/** Nouns that name an object without saying its shape. */
export const GENERIC_NOUNS = { singular: ['shape', 'object'], plural: ['shapes', 'objects'] };

export const NUMBER_WORDS: Record<number, string[]> = { 1: ['one', 'single'], 2: ['two'], 3: ['three'] };

/** The words that make a relation; "to the left of" and "left of" both parse as left-of. */
export const RELATION_PHRASES: Record<Relation, string[]> = {
  'left-of': ['left of', 'to the left of'],
  'right-of': ['right of', 'to the right of'],
  above: ['above', 'over'],
  below: ['below', 'under', 'beneath'],
};

/** Phrases placing a single object by its cell, keyed `row,col`. */
export const POSITION_PHRASES: Record<string, string[]> = {
  '0,0': ['in the top left corner', 'at the top left'],
  '0,1': ['at the top', 'in the top middle'],
  '0,2': ['in the top right corner', 'at the top right'],
  '1,0': ['on the left', 'at the left'],
  '1,1': ['in the center', 'in the middle'],
  '1,2': ['on the right', 'at the right'],
  '2,0': ['in the bottom left corner', 'at the bottom left'],
  '2,1': ['at the bottom', 'in the bottom middle'],
  '2,2': ['in the bottom right corner', 'at the bottom right'],
};

export const TEXTURE_WORDS = { striped: ['striped'], dotted: ['dotted', 'spotted'] } as const;

// ─── reverse maps for parsing ────────────────────────────────────────────────

export const SHAPE_BY_WORD = new Map<string, { shape: Shape; plural: boolean }>();
for (const [shape, forms] of Object.entries(SHAPE_WORDS) as [Shape, { singular: string; plural: string }[]][]) {
  for (const form of forms) {
    SHAPE_BY_WORD.set(form.singular, { shape, plural: false });
    SHAPE_BY_WORD.set(form.plural, { shape, plural: true });
  }
}

export const SIZE_BY_WORD = new Map<string, Size>();
for (const [size, words] of Object.entries(SIZE_WORDS) as [Size, string[]][]) for (const word of words) SIZE_BY_WORD.set(word, size);

export const NUMBER_BY_WORD = new Map<string, number>([
  ['one', 1], ['single', 1], ['two', 2], ['three', 3], ['four', 4], ['five', 5], ['six', 6], ['1', 1], ['2', 2], ['3', 3], ['4', 4],
]);

/** Colour words of objects and backgrounds ("grey" accepted for gray). */
export const COLOR_WORDS = new Map<string, string>([
  ['red', 'red'], ['green', 'green'], ['blue', 'blue'], ['yellow', 'yellow'], ['purple', 'purple'], ['orange', 'orange'],
  ['gray', 'gray'], ['grey', 'gray'], ['black', 'black'], ['white', 'white'], ['pink', 'pink'], ['brown', 'brown'],
]);

/** `textured` claims only that the background is not plain. */
export const TEXTURE_BY_WORD = new Map<string, 'plain' | 'striped' | 'dotted' | 'textured'>([
  ['plain', 'plain'], ['striped', 'striped'], ['stripy', 'striped'], ['dotted', 'dotted'], ['spotted', 'dotted'], ['textured', 'textured'],
]);
