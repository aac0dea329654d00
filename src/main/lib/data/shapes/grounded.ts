/**
 * Grounded scoring for the Shapes benchmark: how often what a caption states
 * is true of the scene it describes. BLEU and CIDEr reward wording; this
 * checks meaning, so it tells whether a model (and its attention) really
 * looks at the image.
 *
 * A caption is parsed into claims:
 * - a mention is a noun (a shape word such as "circle"/"disc", or a generic
 *   "shape"/"object") with the colour, size and number words right before it;
 * - shape:    a mention names a shape → correct if the scene has that shape;
 * - color:    a mention states a colour → correct if some object has that
 *             colour (and the mention's shape, when that shape is right);
 * - size:     likewise for small/large, also matching the colour when right;
 * - count:    a number word ("two circles", "three shapes", "a single
 *             object") → correct if exactly that many objects match every
 *             attribute the mention states;
 * - relation: "A left of / right of / above / below B" between two
 *             consecutive mentions → correct if some object matching all of
 *             A's attributes stands in that relation to a different object
 *             matching all of B's (relations compare grid cells);
 * - position: "A in the top left corner", "A at the bottom", "A in the
 *             center" → correct if an object matching A is in that cell
 *             (row and/or column, as stated);
 * - background: a colour or texture before "background" → correct if the
 *             background has it ("textured" means not plain).
 *
 * Per attribute the score is precision: correct claims / claims. `overall`
 * is the micro-average over all claims. Because a caption that says nothing
 * makes no wrong claims, the report also gives `objectRecall` (the share of
 * scene objects named with both their right shape and right colour) and
 * `exactCaptions` (the share of captions with at least one claim and no
 * wrong claim).
 */
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { tokenizeCaption } from '../text/tokenize';
import { COLOR_WORDS, GENERIC_NOUNS, NUMBER_BY_WORD, SHAPE_BY_WORD, SIZE_BY_WORD, TEXTURE_BY_WORD } from './lexicon';
import { holds, type Relation, type Scene, type SceneObject, type Shape, type Size } from './scene';
import type { ScenesFile } from './synth';

export const GROUNDED_ATTRIBUTES = ['shape', 'color', 'size', 'count', 'relation', 'position', 'background'] as const;
export type GroundedAttribute = (typeof GROUNDED_ATTRIBUTES)[number];

export interface Mention {
  /** Index of the noun in the caption's tokens. */
  index: number;
  start: number;
  kind: 'object' | 'background';
  shape: Shape | null;
  color: string | null;
  size: Size | null;
  count: number | null;
  texture: 'plain' | 'striped' | 'dotted' | 'textured' | null;
  words: string;
}

export interface Claim {
  attribute: GroundedAttribute;
  /** The words the claim was read from. */
  text: string;
  correct: boolean;
}

export interface GroundedCaption {
  claims: Claim[];
  /** Scene objects named with their right shape and colour. */
  describedObjects: number;
}

export interface AttributeScore {
  claims: number;
  correct: number;
  /** correct / claims; null when there were no claims. */
  precision: number | null;
}

export interface GroundedReport {
  /** Captions scored (those whose image is in the scenes). */
  images: number;
  /** Prediction keys with no scene; not scored. */
  unknownImages: string[];
  attributes: Record<GroundedAttribute, AttributeScore>;
  overall: AttributeScore;
  objectRecall: number | null;
  exactCaptions: number | null;
  captionsWithoutClaims: number;
}

const GENERIC = new Set([...GENERIC_NOUNS.singular, ...GENERIC_NOUNS.plural]);
const SKIPPABLE = new Set(['a', 'an', 'the']);

/** The mentions of a caption, in order. */
export function parseMentions(tokens: readonly string[]): Mention[] {
  const mentions: Mention[] = [];
  tokens.forEach((token, index) => {
    const shapeWord = SHAPE_BY_WORD.get(token);
    const isBackground = token === 'background';
    if (!shapeWord && !GENERIC.has(token) && !isBackground) return;
    const mention: Mention = { index, start: index, kind: isBackground ? 'background' : 'object', shape: shapeWord?.shape ?? null, color: null, size: null, count: null, texture: null, words: token };
    for (let j = index - 1; j >= 0; j--) {
      const word = tokens[j] as string;
      if (COLOR_WORDS.has(word) && mention.color === null) mention.color = COLOR_WORDS.get(word) as string;
      else if (SIZE_BY_WORD.has(word) && mention.size === null && !isBackground) mention.size = SIZE_BY_WORD.get(word) as Size;
      else if (NUMBER_BY_WORD.has(word) && mention.count === null && !isBackground) mention.count = NUMBER_BY_WORD.get(word) as number;
      else if (TEXTURE_BY_WORD.has(word) && mention.texture === null && isBackground) mention.texture = TEXTURE_BY_WORD.get(word) ?? null;
      else if (!SKIPPABLE.has(word)) break;
      mention.start = j;
    }
    mention.words = tokens.slice(mention.start, index + 1).join(' ');
    mentions.push(mention);
  });
  return mentions;
}

type Filter = Pick<Mention, 'shape' | 'color' | 'size'>;

function matching(objects: readonly SceneObject[], filter: Filter): SceneObject[] {
  return objects.filter(
    (o) => (filter.shape === null || o.shape === filter.shape) && (filter.color === null || o.color === filter.color) && (filter.size === null || o.size === filter.size),
  );
}

/** The relation stated by the words between two mentions, if any; a list ("and") states none. */
function relationBetween(words: readonly string[]): Relation | null {
  if (words.includes('and')) return null;
  for (let i = 0; i < words.length; i++) {
    const word = words[i];
    if ((word === 'left' || word === 'right') && words[i + 1] === 'of') return word === 'left' ? 'left-of' : 'right-of';
    if (word === 'above' || word === 'over') return 'above';
    if (word === 'below' || word === 'under' || word === 'beneath') return 'below';
  }
  return null;
}

/** A relation stated between two consecutive object mentions ("A left of B"). */
export interface StatedRelation {
  relation: Relation;
  /** The words between the two mentions ("to the left of"). */
  words: readonly string[];
  /** The claim as the caption says it. */
  text: string;
  /** Every pair of distinct scene objects that A and B could name; the claim is true if one pair stands in the relation. */
  pairs: (readonly [SceneObject, SceneObject])[];
}

/** The relation that mention `a` and the mention after it, `b`, state by the words between them; null when they state none. */
export function statedRelation(objects: readonly SceneObject[], tokens: readonly string[], a: Mention, b: Mention): StatedRelation | null {
  if (a.kind !== 'object' || b.kind !== 'object') return null;
  const words = tokens.slice(a.index + 1, b.start);
  const relation = relationBetween(words);
  if (!relation) return null;
  const pairs = matching(objects, a).flatMap((x) => matching(objects, b).filter((y) => y !== x).map((y) => [x, y] as const));
  return { relation, words, text: `${a.words} ${words.join(' ')} ${b.words}`, pairs };
}

/** The cell constraint of "in the top left corner", "at the bottom", "in the center", ...; null if none. */
function positionIn(words: readonly string[]): { row: number | null; col: number | null } | null {
  if (!['in', 'at', 'on'].includes(words[0] ?? '')) return null;
  let row: number | null = null;
  let col: number | null = null;
  let middle = false;
  words.forEach((word, i) => {
    if (word === 'top') row = 0;
    else if (word === 'bottom') row = 2;
    else if ((word === 'left' || word === 'right') && words[i + 1] !== 'of') col = word === 'left' ? 0 : 2;
    else if (word === 'center' || word === 'centre' || word === 'middle') middle = true;
  });
  if (middle) {
    if (row === null && col === null) return { row: 1, col: 1 };
    if (col === null) col = 1;
    else if (row === null) row = 1;
  }
  return row === null && col === null ? null : { row, col };
}

/** Every claim of one caption, checked against one scene. */
export function groundCaption(scene: Scene, caption: string): GroundedCaption {
  const tokens = tokenizeCaption(caption);
  const mentions = parseMentions(tokens);
  const objects = scene.objects;
  const claims: Claim[] = [];
  const claim = (attribute: GroundedAttribute, text: string, correct: boolean) => claims.push({ attribute, text, correct });

  mentions.forEach((mention, m) => {
    const next = mentions[m + 1];
    const after = tokens.slice(mention.index + 1, next ? next.start : tokens.length);
    if (mention.kind === 'background') {
      if (mention.color !== null) claim('background', mention.words, mention.color === scene.background.color);
      if (mention.texture !== null) {
        const texture = scene.background.texture;
        claim('background', mention.words, mention.texture === 'textured' ? texture !== 'plain' : mention.texture === texture);
      }
      return;
    }
    const shapeOk = mention.shape !== null && objects.some((o) => o.shape === mention.shape);
    if (mention.shape !== null) claim('shape', mention.words, shapeOk);
    const shapeFilter = shapeOk ? mention.shape : null;
    const colorOk = mention.color !== null && objects.some((o) => o.color === mention.color && (shapeFilter === null || o.shape === shapeFilter));
    if (mention.color !== null) claim('color', mention.words, colorOk);
    if (mention.size !== null) {
      const filter = { shape: shapeFilter, color: colorOk ? mention.color : null, size: mention.size };
      claim('size', mention.words, matching(objects, filter).length > 0);
    }
    if (mention.count !== null) claim('count', mention.words, matching(objects, mention).length === mention.count);

    const stated = next ? statedRelation(objects, tokens, mention, next) : null;
    if (stated) {
      claim('relation', stated.text, stated.pairs.some(([a, b]) => holds(stated.relation, a, b)));
      return;
    }
    const position = positionIn(after);
    if (position) {
      const correct = matching(objects, mention).some((o) => (position.row === null || o.row === position.row) && (position.col === null || o.col === position.col));
      claim('position', `${mention.words} ${after.join(' ')}`, correct);
    }
  });

  const described = objects.filter((o) => mentions.some((m) => m.kind === 'object' && m.shape === o.shape && m.color === o.color)).length;
  return { claims, describedObjects: described };
}

function emptyScore(): AttributeScore {
  return { claims: 0, correct: 0, precision: null };
}

function finish(score: AttributeScore): AttributeScore {
  return { ...score, precision: score.claims ? score.correct / score.claims : null };
}

/** Scene lookup by file name, tolerant of folder prefixes ("Images/shapes_000001.png"). */
export function sceneIndex(scenes: ScenesFile): Map<string, Scene> {
  return new Map(scenes.images.map((image) => [basename(image.filename), image.scene]));
}

/** Scores generated captions ({image → caption}) against the scenes' truth. */
export function scoreGrounded(scenes: Map<string, Scene>, predictions: Iterable<[string, string]>): GroundedReport {
  const attributes = Object.fromEntries(GROUNDED_ATTRIBUTES.map((a) => [a, emptyScore()])) as Record<GroundedAttribute, AttributeScore>;
  const unknownImages: string[] = [];
  let images = 0;
  let objects = 0;
  let described = 0;
  let exact = 0;
  let withoutClaims = 0;
  for (const [image, caption] of predictions) {
    const scene = scenes.get(basename(image));
    if (!scene) {
      unknownImages.push(image);
      continue;
    }
    images += 1;
    const result = groundCaption(scene, caption);
    for (const c of result.claims) {
      attributes[c.attribute].claims += 1;
      if (c.correct) attributes[c.attribute].correct += 1;
    }
    objects += scene.objects.length;
    described += result.describedObjects;
    if (result.claims.length === 0) withoutClaims += 1;
    else if (result.claims.every((c) => c.correct)) exact += 1;
  }
  const overall = GROUNDED_ATTRIBUTES.reduce((sum, a) => ({ claims: sum.claims + attributes[a].claims, correct: sum.correct + attributes[a].correct, precision: null }), emptyScore());
  return {
    images,
    unknownImages,
    attributes: Object.fromEntries(GROUNDED_ATTRIBUTES.map((a) => [a, finish(attributes[a])])) as Record<GroundedAttribute, AttributeScore>,
    overall: finish(overall),
    objectRecall: objects ? described / objects : null,
    exactCaptions: images ? exact / images : null,
    captionsWithoutClaims: withoutClaims,
  };
}

/** Reads and checks a Shapes `scenes.json`. */
export async function loadScenes(file: string): Promise<ScenesFile> {
  let value: unknown;
  try {
    value = JSON.parse(await readFile(file, 'utf8'));
  } catch (error) {
    throw new Error(`${file}: cannot read the Shapes scenes: ${(error as Error).message}`);
  }
  const scenes = value as Partial<ScenesFile>;
  if (scenes.format !== 'captioner-shapes-scenes') throw new Error(`${file} at $.format: expected "captioner-shapes-scenes"`);
  if (scenes.version !== 1) throw new Error(`${file} at $.version: unsupported version ${JSON.stringify(scenes.version)}`);
  if (!Array.isArray(scenes.images)) throw new Error(`${file} at $.images: expected an array`);
  scenes.images.forEach((image, i) => {
    if (typeof image?.filename !== 'string' || !Array.isArray(image.scene?.objects)) throw new Error(`${file} at $.images[${i}]: expected {filename, scene: {objects}}`);
  });
  return scenes as ScenesFile;
}
