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
import { matching, parseMentions, relationBetween } from './grounded';
import { holds, type Relation, type Scene } from './scene';

/** How the relation was put: "to the left of", "left of", or a vertical word ("above", "under", …). */
export type RelationPhrase = 'to the side of' | 'side of' | 'vertical';

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
    if (a.kind !== 'object' || !b || b.kind !== 'object') return;
    const between = tokens.slice(a.index + 1, b.start);
    const relation = relationBetween(between);
    if (!relation) return;
    const horizontal = relation === 'left-of' || relation === 'right-of';
    const phrase: RelationPhrase = !horizontal ? 'vertical' : between.includes('to') ? 'to the side of' : 'side of';
    const as = matching(scene.objects, a);
    const bs = matching(scene.objects, b);
    const pairs = as.flatMap((x) => bs.filter((y) => y !== x).map((y) => [x, y] as const));
    let outcome: RelationOutcome;
    if (pairs.some(([x, y]) => holds(relation, x, y))) outcome = 'true';
    else if (pairs.length === 0) outcome = 'naming';
    else if (pairs.some(([x, y]) => holds(OPPOSITE[relation], x, y))) outcome = 'side';
    else outcome = 'axis';
    claims.push({ text: `${a.words} ${between.join(' ')} ${b.words}`, relation, phrase, outcome });
  });
  return claims;
}
