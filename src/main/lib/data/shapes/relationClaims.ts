/**
 * Why the relation claims of captions are wrong: each "A left of B" claim
 * the grounded scorer checks, with the phrase that stated it and, when it is
 * false, what was wrong with it. A relation is decided by different steps of
 * a decoder depending on the phrase ("box above" right after the noun, "box
 * to the left of" two words later), and a wrong claim is either a wrong
 * choice of side, an axis along which the two objects do not differ at all,
 * or a misnamed object, which no knowledge of sides can fix
 * (docs/shapes-benchmark.md, "Which relation claims are wrong").
 */
import { tokenizeCaption } from '../text/tokenize';
import { parseMentions, statedRelation } from './grounded';
import { holds, type Relation, type Scene } from './scene';

/** How the relation was put: "to the left of", "left of", or a vertical word ("above", "under", …). */
export type RelationPhrase = 'to the side of' | 'side of' | 'vertical';

/** How a horizontal relation was put (the vertical ones have one form each). */
export type HorizontalPhrase = Exclude<RelationPhrase, 'vertical'>;

/** "to the left of" or "left of", from the words between the two mentions. */
export const horizontalPhrase = (between: readonly string[]): HorizontalPhrase => (between.includes('to') ? 'to the side of' : 'side of');

/**
 * - `true`: some pair of objects matching A and B stands that way;
 * - `side`: no pair does, but one stands the other way round;
 * - `axis`: the matching pairs stand neither way along that axis (the same
 *   column for left/right, the same row for above/below);
 * - `naming`: A or B names no object of the scene, or both name only the
 *   same one object.
 */
export type RelationOutcome = 'true' | 'side' | 'axis' | 'naming';

export interface RelationClaim {
  text: string;
  relation: Relation;
  phrase: RelationPhrase;
  outcome: RelationOutcome;
}

const OPPOSITE: Record<Relation, Relation> = { 'left-of': 'right-of', 'right-of': 'left-of', above: 'below', below: 'above' };

/** Every relation claim of one caption about one scene, as the grounded scorer reads them. */
export function relationClaims(scene: Scene, caption: string): RelationClaim[] {
  const tokens = tokenizeCaption(caption);
  const mentions = parseMentions(tokens);
  const claims: RelationClaim[] = [];
  mentions.forEach((a, m) => {
    const b = mentions[m + 1];
    const stated = b ? statedRelation(scene.objects, tokens, a, b) : null;
    if (!stated) return;
    const { relation, words, pairs } = stated;
    const horizontal = relation === 'left-of' || relation === 'right-of';
    const phrase: RelationPhrase = horizontal ? horizontalPhrase(words) : 'vertical';
    let outcome: RelationOutcome;
    if (pairs.some(([x, y]) => holds(relation, x, y))) outcome = 'true';
    else if (pairs.length === 0) outcome = 'naming';
    else if (pairs.some(([x, y]) => holds(OPPOSITE[relation], x, y))) outcome = 'side';
    else outcome = 'axis';
    claims.push({ text: stated.text, relation, phrase, outcome });
  });
  return claims;
}
