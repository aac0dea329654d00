/**
 * Five different true captions per scene, from a small grammar with
 * synonyms, counts, spatial relations, positions and the background.
 * Templates (each applies where the scene allows it):
 *
 *   list      "a small red circle and a large blue star on a gray background"
 *   count     "two shapes on a striped background", "a single shape on ..."
 *   summary   "two shapes: a red circle and a blue star"
 *   relation  "a red circle to the left of a large blue star"   (2+ objects)
 *   position  "a big yellow triangle in the top left corner"
 *   there-is  "there is a purple cross above a green disc"
 *   grouped   "two red shapes and a blue star", "two circles and a star"
 *
 * Every statement is true of the scene by construction; the grounded
 * scorer's tests check that the scorer agrees.
 */
import { canonicalCaption } from '../text/tokenize';
import type { Rng } from '../random';
import { GENERIC_NOUNS, NUMBER_WORDS, POSITION_PHRASES, RELATION_PHRASES, SHAPE_WORDS, SIZE_WORDS, TEXTURE_WORDS } from './lexicon';
import { holds, type Relation, type Scene, type SceneObject } from './scene';

export const CAPTIONS_PER_IMAGE = 5;

const article = (phrase: string) => (/^[aeiou]/.test(phrase) ? `an ${phrase}` : `a ${phrase}`);

function shapeNoun(object: SceneObject, rng: Rng, plural = false): string {
  const form = rng.pick(SHAPE_WORDS[object.shape]);
  return plural ? form.plural : form.singular;
}

/** "small red circle", sometimes without the size or the colour (never both). */
function describe(object: SceneObject, rng: Rng, full = false): string {
  const mode = full ? 0 : rng.int(4);
  const size = rng.pick(SIZE_WORDS[object.size]);
  const noun = shapeNoun(object, rng);
  if (mode === 1) return `${object.color} ${noun}`;
  if (mode === 2) return `${size} ${noun}`;
  return `${size} ${object.color} ${noun}`;
}

function background(scene: Scene, rng: Rng): string {
  const { color, texture } = scene.background;
  const phrase =
    texture === 'plain'
      ? `${color} background`
      : rng.chance(0.5)
        ? `${rng.pick(TEXTURE_WORDS[texture])} background`
        : `${rng.pick(TEXTURE_WORDS[texture])} ${color} background`;
  return `${rng.pick(['on', 'against'])} ${article(phrase)}`;
}

function listPhrase(items: string[]): string {
  if (items.length <= 1) return items.join('');
  return `${items.slice(0, -1).join(' and ')} and ${items[items.length - 1]}`;
}

function countPhrase(n: number, rng: Rng): string {
  if (n === 1) return rng.pick(['a single shape', 'one shape', 'a single object']);
  return `${rng.pick(NUMBER_WORDS[n] ?? [String(n)])} ${rng.pick(GENERIC_NOUNS.plural)}`;
}

function truthRelations(a: SceneObject, b: SceneObject): Relation[] {
  return (['left-of', 'right-of', 'above', 'below'] as const).filter((relation) => holds(relation, a, b));
}

/** Full descriptions when two objects would otherwise read the same. */
function distinct(objects: SceneObject[]): boolean {
  const keys = objects.map((o) => `${o.shape}/${o.color}/${o.size}`);
  return new Set(keys).size === keys.length;
}

type Template = (scene: Scene, rng: Rng) => string | null;

const templates: Template[] = [
  function list(scene, rng) {
    const items = rng.shuffle(scene.objects).map((object) => article(describe(object, rng, true)));
    return `${listPhrase(items)} ${background(scene, rng)}`;
  },
  function count(scene, rng) {
    return `${countPhrase(scene.objects.length, rng)} ${background(scene, rng)}`;
  },
  function summary(scene, rng) {
    if (scene.objects.length < 2) return null;
    return `${countPhrase(scene.objects.length, rng)}: ${listPhrase(scene.objects.map((object) => article(describe(object, rng))))}`;
  },
  function relation(scene, rng) {
    if (scene.objects.length < 2) return null;
    const [a, b] = rng.shuffle(scene.objects) as [SceneObject, SceneObject];
    const relations = truthRelations(a, b);
    if (relations.length === 0) return null;
    const full = !distinct(scene.objects) || rng.chance(0.5);
    return `${article(describe(a, rng, full))} ${rng.pick(RELATION_PHRASES[rng.pick(relations)])} ${article(describe(b, rng, full))}`;
  },
  function position(scene, rng) {
    const object = rng.pick(scene.objects);
    const phrase = rng.pick(POSITION_PHRASES[`${object.row},${object.col}`] as string[]);
    return `${article(describe(object, rng, scene.objects.length > 1))} ${phrase}`;
  },
  function thereIs(scene, rng) {
    if (scene.objects.length < 2) {
      const object = scene.objects[0] as SceneObject;
      return `there is ${article(describe(object, rng))} ${background(scene, rng)}`;
    }
    const [a, b] = rng.shuffle(scene.objects) as [SceneObject, SceneObject];
    const relations = truthRelations(a, b);
    if (relations.length === 0) return null;
    return `there is ${article(describe(a, rng, true))} ${rng.pick(RELATION_PHRASES[rng.pick(relations)])} ${article(describe(b, rng, true))}`;
  },
  function grouped(scene, rng) {
    if (scene.objects.length < 2) return null;
    const byColor = groupBy(scene.objects, (o) => o.color);
    const byShape = groupBy(scene.objects, (o) => o.shape);
    const options: string[] = [];
    for (const [color, group] of byColor) {
      if (group.length < 2) continue;
      const rest = scene.objects.filter((o) => o.color !== color).map((o) => article(describe(o, rng)));
      options.push(listPhrase([`${NUMBER_WORDS[group.length]?.[0]} ${color} ${rng.pick(GENERIC_NOUNS.plural)}`, ...rest]));
    }
    for (const [, group] of byShape) {
      if (group.length < 2) continue;
      const first = group[0] as SceneObject;
      const rest = scene.objects.filter((o) => o.shape !== first.shape).map((o) => article(describe(o, rng)));
      options.push(listPhrase([`${NUMBER_WORDS[group.length]?.[0]} ${shapeNoun(first, rng, true)}`, ...rest]));
    }
    return options.length ? rng.pick(options) : null;
  },
];

function groupBy<T, K>(items: T[], key: (item: T) => K): Map<K, T[]> {
  const map = new Map<K, T[]>();
  for (const item of items) map.set(key(item), [...(map.get(key(item)) ?? []), item]);
  return map;
}

/**
 * `count` different captions (different after tokenization). Templates are
 * tried in a random order and then again with fresh synonyms until enough
 * distinct captions exist; the attempt cap only matters for degenerate
 * grammars, and every scene here yields five easily.
 */
export function generateCaptions(scene: Scene, rng: Rng, count = CAPTIONS_PER_IMAGE): string[] {
  const captions: string[] = [];
  const seen = new Set<string>();
  for (let attempt = 0; attempt < 200 && captions.length < count; attempt++) {
    const order = rng.shuffle(templates);
    for (const template of order) {
      if (captions.length >= count) break;
      const caption = template(scene, rng);
      if (!caption) continue;
      const key = canonicalCaption(caption);
      if (seen.has(key)) continue;
      seen.add(key);
      captions.push(caption);
    }
  }
  if (captions.length < count) throw new Error(`The Shapes grammar produced only ${captions.length} distinct captions for a scene.`);
  return captions;
}
