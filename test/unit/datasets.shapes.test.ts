import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRng } from '../../src/main/lib/data/random';
import { readDataset } from '../../src/main/lib/data/readers';
import { generateCaptions } from '../../src/main/lib/data/shapes/grammar';
import { groundCaption, loadScenes, parseMentions, sceneIndex, scoreGrounded } from '../../src/main/lib/data/shapes/grounded';
import { OBJECT_COLORS, randomScene, type Scene } from '../../src/main/lib/data/shapes/scene';
import { synthesizeItem, synthesizeShapes } from '../../src/main/lib/data/shapes/synth';
import { findSplitLeaks, resolveSplits } from '../../src/main/lib/data/text/splits';
import { tokenizeCaption } from '../../src/main/lib/data/text/tokenize';
import { dataEngineHandlers } from '../../src/main/engine/handlers/data';
import { ApiError } from '../../src/shared/errors';
import { tempDir } from '../helpers/datasetFixtures';
import { plainScene, sceneObject as object } from '../helpers/shapesScenes';

/** Red small circle top-left, blue large square middle-right, on plain gray. */
const scene = plainScene([object('circle', 'red', 'small', 0, 0), object('square', 'blue', 'large', 1, 2)]);

const verdicts = (caption: string) => groundCaption(scene, caption).claims.map((c) => `${c.attribute}:${c.correct ? 'ok' : 'wrong'}`);

describe('grounded scoring on hand-made cases', () => {
  it('accepts true statements', () => {
    expect(verdicts('a small red circle left of a large blue square')).toEqual([
      'shape:ok', 'color:ok', 'size:ok', 'relation:ok', 'shape:ok', 'color:ok', 'size:ok',
    ]);
    expect(verdicts('two shapes on a gray background')).toEqual(['count:ok', 'background:ok']);
    expect(verdicts('a blue box on the right')).toEqual(['shape:ok', 'color:ok', 'position:ok']);
    expect(verdicts('a red disc in the top left corner')).toEqual(['shape:ok', 'color:ok', 'position:ok']);
    expect(verdicts('there is a red circle above a blue square')).toEqual(['shape:ok', 'color:ok', 'relation:ok', 'shape:ok', 'color:ok']);
  });

  it('rejects each kind of false statement separately', () => {
    // Wrong colour, right shape: only the colour claim fails.
    expect(verdicts('a green circle')).toEqual(['shape:ok', 'color:wrong']);
    // Wrong shape, right colour: the colour is judged on its own.
    expect(verdicts('a red star')).toEqual(['shape:wrong', 'color:ok']);
    expect(verdicts('a large red circle')).toEqual(['shape:ok', 'color:ok', 'size:wrong']);
    expect(verdicts('three shapes')).toEqual(['count:wrong']);
    expect(verdicts('two circles')).toEqual(['shape:ok', 'count:wrong']);
    expect(verdicts('a red circle right of a blue square')).toEqual(['shape:ok', 'color:ok', 'relation:wrong', 'shape:ok', 'color:ok']);
    expect(verdicts('a red circle below a blue square')).toContain('relation:wrong');
    expect(verdicts('a blue square in the center')).toEqual(['shape:ok', 'color:ok', 'position:wrong']);
    expect(verdicts('a circle on a black background')).toEqual(['shape:ok', 'background:wrong']);
    expect(verdicts('a circle on a striped background')).toEqual(['shape:ok', 'background:wrong']);
  });

  it('judges a relation only for objects matching every stated attribute', () => {
    // The red thing is left of the blue thing, but there is no red square: a square exists,
    // so the colour is judged for squares (wrong), and the relation has no red square to start from.
    expect(verdicts('a red square left of a blue square')).toEqual(['shape:ok', 'color:wrong', 'relation:wrong', 'shape:ok', 'color:ok']);
    expect(verdicts('a red shape left of a blue shape')).toEqual(['color:ok', 'relation:ok', 'color:ok']);
  });

  it('makes no claims for words it cannot ground, and lists are not relations', () => {
    expect(verdicts('a picture of something nice')).toEqual([]);
    expect(verdicts('a red circle and a blue square on the left')).not.toContain('relation:ok');
  });

  it('parses modifiers of each noun without crossing into the previous phrase', () => {
    const mentions = parseMentions(tokenizeCaption('two red shapes and a big blue star on a striped gray background'));
    expect(mentions.map((m) => [m.kind, m.shape, m.color, m.size, m.count, m.texture])).toEqual([
      ['object', null, 'red', null, 2, null],
      ['object', 'star', 'blue', 'large', null, null],
      ['background', null, 'gray', null, null, 'striped'],
    ]);
  });

  it('aggregates precision per attribute, overall, recall and exact captions', () => {
    const scenes = new Map([['a.png', scene]]);
    const report = scoreGrounded(scenes, [
      ['Images/a.png', 'a small red circle left of a large blue square'], // 7 claims, all correct; both objects described
      ['a.png', 'a green circle'], // 2 claims, 1 correct; nothing described
      ['a.png', 'something'], // no claims
      ['missing.png', 'a red circle'],
    ]);
    expect(report.images).toBe(3);
    expect(report.unknownImages).toEqual(['missing.png']);
    expect(report.attributes.color).toEqual({ claims: 3, correct: 2, precision: 2 / 3 });
    expect(report.attributes.relation).toEqual({ claims: 1, correct: 1, precision: 1 });
    expect(report.attributes.count.precision).toBeNull();
    expect(report.overall).toEqual({ claims: 9, correct: 8, precision: 8 / 9 });
    expect(report.objectRecall).toBe(2 / 6);
    expect(report.exactCaptions).toBe(1 / 3);
    expect(report.captionsWithoutClaims).toBe(1);
  });
});

describe('the caption grammar', () => {
  it('writes five distinct captions that the grounded scorer finds entirely true', () => {
    const rng = createRng(123);
    let claims = 0;
    for (let i = 0; i < 300; i++) {
      const s = randomScene(rng.fork(i));
      const captions = generateCaptions(s, rng.fork(`c${i}`));
      expect(captions).toHaveLength(5);
      expect(new Set(captions.map((c) => tokenizeCaption(c).join(' '))).size).toBe(5);
      for (const caption of captions) {
        const result = groundCaption(s, caption);
        claims += result.claims.length;
        const wrong = result.claims.filter((c) => !c.correct);
        expect(wrong, `${caption} :: ${JSON.stringify(s.objects)}`).toEqual([]);
      }
    }
    expect(claims).toBeGreaterThan(3000);
  });

  it('scores captions of other scenes clearly lower', () => {
    const rng = createRng(9);
    const scenes = Array.from({ length: 200 }, (_, i) => randomScene(rng.fork(i)));
    const index = new Map(scenes.map((s, i) => [`${i}.png`, s]));
    const own = scoreGrounded(index, scenes.map((s, i) => [`${i}.png`, generateCaptions(s, rng.fork(`own${i}`))[0] as string]));
    const shuffled = scoreGrounded(index, scenes.map((_, i) => [`${i}.png`, generateCaptions(scenes[(i + 1) % 200] as Scene, rng.fork(`x${i}`))[0] as string]));
    expect(own.overall.precision).toBe(1);
    expect(shuffled.overall.precision as number).toBeLessThan(0.75);
  });

  it('keeps the vocabulary small', () => {
    const rng = createRng(4);
    const words = new Set<string>();
    for (let i = 0; i < 500; i++) for (const c of generateCaptions(randomScene(rng.fork(i)), rng.fork(`w${i}`))) for (const t of tokenizeCaption(c)) words.add(t);
    expect(words.size).toBeLessThan(80);
    expect(words.size).toBeGreaterThan(40);
  });
});

describe('captioner synth output', () => {
  let a: ReturnType<typeof tempDir>;
  let b: ReturnType<typeof tempDir>;
  let c: ReturnType<typeof tempDir>;
  beforeAll(async () => {
    [a, b, c] = [tempDir('shapes-a-'), tempDir('shapes-b-'), tempDir('shapes-c-')];
    await synthesizeShapes({ out: a.dir, images: 24, seed: 5, imageSize: 64 });
    await synthesizeShapes({ out: b.dir, images: 24, seed: 5, imageSize: 64 }, { concurrency: 1 });
    await synthesizeShapes({ out: c.dir, images: 24, seed: 6, imageSize: 64 });
  });
  afterAll(() => [a, b, c].forEach((t) => t.cleanup()));

  it('is byte-identical for a seed, whatever the concurrency, and differs for another seed', () => {
    for (const file of ['captions.txt', 'dataset_shapes.json', 'scenes.json']) {
      expect(readFileSync(join(a.dir, file), 'utf8')).toBe(readFileSync(join(b.dir, file), 'utf8'));
      expect(readFileSync(join(a.dir, file), 'utf8')).not.toBe(readFileSync(join(c.dir, file), 'utf8'));
    }
    const images = readdirSync(join(a.dir, 'Images')).sort();
    expect(images).toHaveLength(24);
    for (const name of images) expect(readFileSync(join(a.dir, 'Images', name)).equals(readFileSync(join(b.dir, 'Images', name)))).toBe(true);
  });

  it('gives image i the same scene whatever the dataset size', () => {
    const scenes = JSON.parse(readFileSync(join(a.dir, 'scenes.json'), 'utf8')) as { images: { scene: Scene }[] };
    expect(scenes.images[3]?.scene).toEqual(synthesizeItem(5, 3, { imageSize: 64, maxObjects: 3, textures: true }).scene);
  });

  it('reads back as Karpathy (with splits) and as Flickr8k captions.txt, without problems or leaks', async () => {
    const karpathy = await readDataset(a.dir);
    expect(karpathy.format).toBe('karpathy');
    expect(karpathy.images).toHaveLength(24);
    expect(karpathy.problems.counts).toEqual({});
    const { splits, source } = resolveSplits(karpathy, { seed: 0 });
    expect(source).toBe('dataset');
    expect(findSplitLeaks(splits)).toEqual([]);
    expect(splits.train.length + splits.val.length + splits.test.length).toBe(24);
    const flickr = await readDataset(join(a.dir, 'captions.txt'));
    expect(flickr.format).toBe('flickr8k-csv');
    expect(flickr.images.map((i) => [i.id, i.captions])).toEqual(karpathy.images.map((i) => [i.id, i.captions]));
  });

  it('renders objects where scenes.json says, in the stated colour', async () => {
    const scenes = await loadScenes(join(a.dir, 'scenes.json'));
    for (const entry of scenes.images.slice(0, 6)) {
      const { data, info } = await sharp(join(a.dir, 'Images', entry.filename)).removeAlpha().raw().toBuffer({ resolveWithObject: true });
      expect([info.width, info.height]).toEqual([64, 64]);
      for (const o of entry.scene.objects) {
        const at = (Math.round(o.y) * 64 + Math.round(o.x)) * 3;
        const expected = OBJECT_COLORS[o.color];
        const rgb = [1, 3, 5].map((k) => parseInt(expected.slice(k, k + 2), 16));
        // The centre pixel of every shape is inside it (the star's core included).
        rgb.forEach((v, k) => expect(Math.abs((data[at + k] as number) - v)).toBeLessThan(40));
      }
    }
  });

  it('scores its own captions as fully grounded', async () => {
    const scenes = sceneIndex(await loadScenes(join(a.dir, 'scenes.json')));
    const dataset = await readDataset(a.dir);
    const report = scoreGrounded(scenes, dataset.images.map((image) => [image.id, image.captions[0] as string]));
    expect(report.images).toBe(24);
    expect(report.overall.precision).toBe(1);
  });
});

describe('the data.synth engine handler', () => {
  it('reports progress with an ETA and stops when cancelled, leaving no annotations', async () => {
    const out = tempDir('shapes-cancel-');
    try {
      const controller = new AbortController();
      const progress: { done: number; total: number | null; etaSeconds?: number | null }[] = [];
      const run = dataEngineHandlers['data.synth'](
        { out: out.dir, images: 400, seed: 1, imageSize: 32, format: 'png', maxObjects: 3, textures: true },
        {
          signal: controller.signal,
          log: () => undefined,
          emit: () => undefined,
          progress: (p) => {
            progress.push(p);
            controller.abort();
          },
        },
      );
      const error = await run.catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ApiError);
      expect((error as ApiError).code).toBe('cancelled');
      expect(progress[0]?.total).toBe(400);
      expect(typeof progress[0]?.etaSeconds).toBe('number');
      expect(existsSync(join(out.dir, 'captions.txt'))).toBe(false);
      expect(existsSync(join(out.dir, 'scenes.json'))).toBe(false);
    } finally {
      out.cleanup();
    }
  });
});
