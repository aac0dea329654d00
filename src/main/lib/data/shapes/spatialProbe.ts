/**
 * The spatial probe of the Shapes benchmark: does a model know *where*,
 * whatever its decoding chooses to say? A decoded caption states a relation
 * or a position only when beam search picks such a template, and a relation
 * is judged false as soon as one of its two objects is misnamed; so the
 * grounded precision of relations and positions mixes "does not know where"
 * with "named the wrong object" and "rarely says it".
 *
 * The probe reads the true reference captions instead (teacher forcing):
 * at each word that says where ("top" in "in the top left corner", "left" in
 * "to the left of", "under"), the model's probability of that side is
 * compared with the opposite side's (top against bottom, left against right,
 * above/over against below/under/beneath). 0.5 is chance; a model that knows
 * where puts nearly all of the pair's probability on the true side.
 * Before the side, a relation chooses its axis at its first word: "to" or
 * "left" go across, "under" or "over" up and down. Where the two objects
 * share a column (or a row) only one axis is true, and the first word's
 * probability of each axis is compared the same way.
 *
 * This module finds those words in a caption (with the grounded scorer's
 * parser, so a word is probed exactly where the scorer would read it); the
 * model side is bench/shapes-spatial.ts.
 */
import { parseMentions, statedRelation, type Mention, type StatedRelation } from './grounded';
import { RELATION_PHRASES } from './lexicon';
import { horizontalPhrase, type HorizontalPhrase } from './relationClaims';
import { GRID, holds, type Relation, type SceneObject } from './scene';

export type SpatialProbeKind = 'position-row' | 'position-column' | 'relation-horizontal' | 'relation-vertical' | 'relation-axis';

export interface SpatialProbeItem {
  kind: SpatialProbeKind;
  /** Index of the spatial word in the caption's tokens. */
  index: number;
  /** The words of the true side and of the opposite side (synonyms added up). */
  truth: readonly string[];
  opposite: readonly string[];
  /** Relation words (and their axis): the two object mentions the word stands between. */
  between?: readonly [Mention, Mention];
  /** Horizontal relation words: "to the left of" (read two words after the noun) or "left of" (right after it). */
  phrase?: HorizontalPhrase;
}

/** The words of one relation, e.g. above → ["above", "over"], left-of → ["left"] (each phrase's last word before "of"). */
function relationWords(relation: Relation): string[] {
  return [...new Set(RELATION_PHRASES[relation].map((phrase) => phrase.split(' ').filter((word) => word !== 'of').pop() as string))];
}

const SIDES: Record<string, { kind: 'horizontal' | 'vertical'; truth: string[]; opposite: string[] }> = {};
for (const [relation, opposite] of [
  ['left-of', 'right-of'],
  ['right-of', 'left-of'],
  ['above', 'below'],
  ['below', 'above'],
] as const) {
  for (const word of relationWords(relation)) {
    SIDES[word] = { kind: relation === 'above' || relation === 'below' ? 'vertical' : 'horizontal', truth: relationWords(relation), opposite: relationWords(opposite) };
  }
}

/** The words a relation phrase can begin with, by axis: "to" and "left" across, "above" and "under" up and down. */
const AXIS_FIRST_WORDS = {
  horizontal: firstWords(['left-of', 'right-of']),
  vertical: firstWords(['above', 'below']),
};

function firstWords(relations: readonly Relation[]): string[] {
  return [...new Set(relations.flatMap((relation) => RELATION_PHRASES[relation].map((phrase) => phrase.split(' ')[0] as string)))];
}

const POSITION_OPPOSITES: Record<string, { kind: 'position-row' | 'position-column'; opposite: string }> = {
  top: { kind: 'position-row', opposite: 'bottom' },
  bottom: { kind: 'position-row', opposite: 'top' },
  left: { kind: 'position-column', opposite: 'right' },
  right: { kind: 'position-column', opposite: 'left' },
};

/**
 * The spatial words of a tokenized caption, each with its opposite side.
 * Relations: the relation word between two object mentions ("left" of "to
 * the left of", "under"); positions: "top"/"bottom" and "left"/"right" of a
 * phrase after a mention that starts with in/at/on ("in the top left
 * corner"). "center" and "middle" have no opposite and are not probed.
 * A relation also gives a `relation-axis` item at its first word, the word
 * after the first mention's noun, where the axis is chosen.
 */
export function spatialProbeItems(tokens: readonly string[]): SpatialProbeItem[] {
  const mentions = parseMentions(tokens);
  const items: SpatialProbeItem[] = [];
  mentions.forEach((mention, m) => {
    if (mention.kind !== 'object') return;
    const next = mentions[m + 1];
    const from = mention.index + 1;
    const to = next ? next.start : tokens.length;
    const after = tokens.slice(from, to);
    if (next?.kind === 'object' && !after.includes('and')) {
      for (let i = 0; i < after.length; i++) {
        const side = SIDES[after[i] as string];
        const horizontal = side?.kind === 'horizontal';
        // "left"/"right" state a relation only followed by "of".
        if (!side || (horizontal && after[i + 1] !== 'of')) continue;
        const [axis, other] = horizontal ? (['horizontal', 'vertical'] as const) : (['vertical', 'horizontal'] as const);
        items.push({ kind: 'relation-axis', index: from, truth: AXIS_FIRST_WORDS[axis], opposite: AXIS_FIRST_WORDS[other], between: [mention, next] });
        items.push({
          kind: horizontal ? 'relation-horizontal' : 'relation-vertical',
          index: from + i,
          truth: side.truth,
          opposite: side.opposite,
          between: [mention, next],
          ...(horizontal ? { phrase: horizontalPhrase(after) } : {}),
        });
        return;
      }
    }
    if (!['in', 'at', 'on'].includes(after[0] ?? '') || after.includes('background')) return;
    after.forEach((word, i) => {
      const position = POSITION_OPPOSITES[word];
      if (!position || after[i + 1] === 'of') return;
      items.push({ kind: position.kind, index: from + i, truth: [word], opposite: [position.opposite] });
    });
  });
  return items;
}

/** The objects that can be a stated relation's first object: those that stand in it to some object the caption could name next. */
function firstObjectsHolding(stated: StatedRelation): Set<SceneObject> {
  return new Set(stated.pairs.filter(([a, b]) => holds(stated.relation, a, b)).map(([a]) => a));
}

/** What decides a relation word's side: see relationDecidedBy. */
export type RelationDecidedBy = 'first-object' | 'second-object';

/**
 * What a relation word's true side follows from, in a true caption:
 * - 'first-object': the first object sits in an outer column ("left of") or
 *   row ("above") of the scene's grid, so every object across that axis
 *   lies on one side of it and its own place decides the word, as for a
 *   position;
 * - 'second-object': it sits in the middle column or row, so the side
 *   depends on where the object named next is.
 * A model that has learned only where the first object is gets the first
 * kind right and the second at chance. Null for position and axis words, and when
 * the caption's two mentions fit more than one first object.
 */
export function relationDecidedBy(objects: readonly SceneObject[], tokens: readonly string[], item: SpatialProbeItem): RelationDecidedBy | null {
  if (!item.between || item.kind === 'relation-axis') return null;
  const stated = statedRelation(objects, tokens, ...item.between);
  if (!stated) return null;
  const firsts = firstObjectsHolding(stated);
  if (firsts.size !== 1) return null;
  const [first] = [...firsts] as [SceneObject];
  const place = item.kind === 'relation-horizontal' ? first.col : first.row;
  return place === 0 || place === GRID - 1 ? 'first-object' : 'second-object';
}

/**
 * Whether a relation's axis is the only one the scene allows at its first
 * word: every other object shares the first object's row (for left/right)
 * or its column (for above/below), so whichever object is named next, the
 * other axis's words would be false. When some object lies off that row or
 * column, a true caption could take the other axis to it, and the first
 * word has no wrong axis to weigh. False for items that are not
 * `relation-axis`, and for relations no pair of the scene stands in.
 */
export function relationAxisIsTheOnlyOne(objects: readonly SceneObject[], tokens: readonly string[], item: SpatialProbeItem): boolean {
  if (item.kind !== 'relation-axis' || !item.between) return false;
  const stated = statedRelation(objects, tokens, ...item.between);
  if (!stated) return false;
  const across = stated.relation === 'left-of' || stated.relation === 'right-of';
  const firsts = firstObjectsHolding(stated);
  return firsts.size > 0 && [...firsts].every((first) => objects.every((other) => other === first || (across ? other.row === first.row : other.col === first.col)));
}
