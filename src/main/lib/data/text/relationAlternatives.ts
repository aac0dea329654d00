/**
 * The alternatives of a caption that is one relation between two things:
 * the same caption with each other relation phrase ("a box above a cross",
 * "a box to the left of a cross", …). Relation search
 * (`decoding.relationSearch`) adds them to the candidates a consensus
 * chooses among, because beam search settles the relation early and
 * unevenly: after "a box", the one word "to" holds both horizontal sides
 * while "above", "over", "below", "under" and "beneath" split the vertical
 * ones, so when the model is unsure of the axis the beam keeps "to" and the
 * vertical hypotheses fall out before the second object is read. Scoring
 * every relation on the finished caption lets the second object weigh in.
 * Only captions that have a converse (lib/data/text/converse.ts) have
 * alternatives, for the same reason: elsewhere, a phrase swapped in could
 * leave the sentence broken or false in ways the scores would not show.
 */
import { RELATION_PHRASES, relationParts } from './converse';
import type { Vocabulary } from './vocabulary';

/** The caption with its relation phrase replaced by each other phrase; none when it is not one relation between two simple noun phrases. */
export function relationAlternatives(tokens: readonly string[]): string[][] {
  const parts = relationParts(tokens);
  if (!parts) return [];
  const own = parts.relation.join(' ');
  return RELATION_PHRASES.filter((phrase) => phrase.join(' ') !== own).map((phrase) => [...parts.before, ...parts.first, ...phrase, ...parts.second]);
}

/** The same on word ids, keeping only the alternatives whose every word is in the vocabulary. */
export function relationAlternativeIds(ids: ArrayLike<number>, vocabulary: Vocabulary): number[][] {
  return relationAlternatives(Array.from(ids, (id) => vocabulary.token(id))).flatMap((words) => {
    const known = vocabulary.knownIds(words);
    return known ? [known] : [];
  });
}
