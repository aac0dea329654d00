/**
 * The converse of a caption that is one relation between two things: "a red
 * star to the left of a blue circle" is as true as "a blue circle to the
 * right of a red star", and "a box above a cross" as "a cross below a box".
 * Training on both (`training.converseRelations`) shows every relation from
 * each of its two ends, so the side word is learned against either object
 * as the anchor. Only captions of the one shape [words] NP RELATION NP are
 * rewritten, where each NP begins with an article and holds no function
 * word: anything else ("a dog on a sofa next to a cat") is left as it is,
 * since swapping its parts could make it false.
 */
import type { Vocabulary } from './vocabulary';

/** Relation phrases and their converses: the same number of words, so a caption keeps its length. */
const CONVERSES: ReadonlyArray<readonly [string, string]> = [
  ['to the left of', 'to the right of'],
  ['to the right of', 'to the left of'],
  ['left of', 'right of'],
  ['right of', 'left of'],
  ['above', 'below'],
  ['below', 'above'],
  ['over', 'under'],
  ['under', 'over'],
  ['beneath', 'above'],
];

const PHRASES = CONVERSES.map(([phrase, converse]) => ({ words: phrase.split(' '), converse: converse.split(' ') }))
  // Longest first, so "to the left of" is found before the "left of" inside it.
  .sort((a, b) => b.words.length - a.words.length);

const ARTICLES = new Set(['a', 'an', 'the']);
/** Words that end a simple noun phrase (the relation phrases' own words among them): what follows them is another phrase, which the converse would move. */
const FUNCTION_WORDS = new Set([
  ...['a', 'an', 'the', 'and', 'or', 'with', 'on', 'in', 'against', 'at', 'is', 'are', 'by', 'near', 'beside', 'next', 'from', 'for', 'that', 'which', 'while', 'behind'],
  ...PHRASES.flatMap(({ words }) => words),
]);
const MAX_PHRASE_WORDS = 5;

/** A simple noun phrase: an article, then one to four words, none of them a function word. */
function isNounPhrase(words: readonly string[]): boolean {
  if (words.length < 2 || words.length > MAX_PHRASE_WORDS || !ARTICLES.has(words[0]!)) return false;
  return words.slice(1).every((word) => !FUNCTION_WORDS.has(word));
}

/** The relation phrases found in `tokens`: where each begins, and which. */
function relationsIn(tokens: readonly string[]): Array<{ at: number; words: string[]; converse: string[] }> {
  const found: Array<{ at: number; words: string[]; converse: string[] }> = [];
  for (let at = 0; at < tokens.length; at++) {
    const phrase = PHRASES.find(({ words }) => words.every((word, i) => tokens[at + i] === word));
    if (!phrase) continue;
    found.push({ at, ...phrase });
    at += phrase.words.length - 1;
  }
  return found;
}

/** A caption that is one relation between two simple noun phrases, in its parts: [before] FIRST RELATION SECOND. */
export interface RelationParts {
  before: string[];
  first: string[];
  relation: string[];
  second: string[];
  /** The relation's converse phrase ("below" for "above"). */
  converse: string[];
}

/** The parts of a caption of the shape [words] NP RELATION NP, or null when it is anything else. */
export function relationParts(tokens: readonly string[]): RelationParts | null {
  const relations = relationsIn(tokens);
  if (relations.length !== 1) return null;
  const { at, words, converse } = relations[0]!;
  const start = tokens.findIndex((token) => ARTICLES.has(token));
  if (start < 0 || start >= at) return null;
  const first = tokens.slice(start, at);
  const second = tokens.slice(at + words.length);
  if (!isNounPhrase(first) || !isNounPhrase(second)) return null;
  return { before: tokens.slice(0, start), first, relation: words, second, converse };
}

/** The relation phrases this module knows, each once ("to the left of", "left of", "above", …). */
export const RELATION_PHRASES: ReadonlyArray<readonly string[]> = PHRASES.map(({ words }) => words);

/** The caption told from its other object, or null when it is not one relation between two simple noun phrases. */
export function converseTokens(tokens: readonly string[]): string[] | null {
  const parts = relationParts(tokens);
  return parts ? toldFromSecond(parts) : null;
}

function toldFromSecond(parts: RelationParts): string[] {
  return [...parts.before, ...parts.second, ...parts.converse, ...parts.first];
}

/** A caption's converse in word ids, and where the relation begins in each telling. */
export interface ConverseIds {
  ids: number[];
  /** Where the caption's relation begins: the words before it name its first object. */
  relationAt: number;
  /** Where the converse's relation begins: the words before it name the caption's second object. */
  converseRelationAt: number;
}

/**
 * The same on word ids: null when the caption has no converse, or when a word
 * of the converse is not in the vocabulary (a vocabulary with "left" and
 * without "right" cannot say it).
 */
export function converseIds(ids: ArrayLike<number>, vocabulary: Vocabulary): ConverseIds | null {
  const parts = relationParts(Array.from(ids, (id) => vocabulary.token(id)));
  const converse = parts ? vocabulary.knownIds(toldFromSecond(parts)) : null;
  if (!parts || !converse) return null;
  return { ids: converse, relationAt: parts.before.length + parts.first.length, converseRelationAt: parts.before.length + parts.second.length };
}
