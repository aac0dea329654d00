/**
 * The gallery service on stored evaluations: sorting by any score (worst
 * first by default), filtering by word, split and grounded error type, the
 * grounded verdicts with the wrong words marked, the explanation request it
 * sends the engine, and the self-contained HTML report.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { GalleryService } from '../../src/main/evaluation/galleryService';
import { segmentsOf } from '../../src/main/evaluation/groundedVerdicts';
import { synthesizeShapes, type ScenesFile } from '../../src/main/lib/data/shapes/synth';
import type { ExplainParams } from '../../src/main/ml/explain/explainCaption';
import type { CaptionExplanation, GalleryQuery } from '../../src/shared/galleryTypes';
import type { EvaluationItem, EvaluationRecord } from '../../src/shared/storeTypes';
import { tempDir } from '../helpers/evalFixtures';

let dir: string;
let scenes: ScenesFile;
const OTHER_COLOR: Record<string, string> = { red: 'blue', blue: 'green', green: 'red', yellow: 'purple', purple: 'yellow', orange: 'red' };

beforeAll(async () => {
  dir = tempDir('captioner-gallery-');
  await synthesizeShapes({ out: dir, images: 6, seed: 3, imageSize: 32 });
  scenes = JSON.parse(readFileSync(join(dir, 'scenes.json'), 'utf8')) as ScenesFile;
});

function record(id: number, split: string): EvaluationRecord {
  return {
    id,
    runId: 1,
    checkpointId: 1,
    datasetId: null,
    split,
    decoding: { strategy: 'beam', beamWidth: 2, maxLength: 9 },
    metricDefinitions: { checkpoint: { path: '/runs/1/checkpoints/best', epoch: 3 }, grounded: { scenesFile: join(dir, 'scenes.json') } },
    aggregate: { ciderD: 0.5, bleu4: 0.2 },
    imageCount: 3,
    createdAt: '2026-01-01T00:00:00Z',
  };
}

/** Image i: a right caption (even i) or one with the wrong colour (odd i); CIDEr-D grows with i. */
function items(offset: number): EvaluationItem[] {
  return [0, 1, 2].map((k) => {
    const i = offset + k;
    const image = scenes.images[i]!;
    const object = image.scene.objects[0]!;
    const color = i % 2 === 0 ? object.color : OTHER_COLOR[object.color]!;
    return {
      imageId: `img-${i}`,
      imagePath: join(dir, 'Images', image.filename),
      caption: `a ${color} ${object.shape}`,
      references: [`A ${object.color} ${object.shape}, alone.`, i === 4 ? 'Circles, and more circles' : 'some shapes'],
      scores: { ciderD: i / 10, bleu4: 1 - i / 10, bleu1: 0.5, rougeL: 0.5 },
    };
  });
}

function service(explained: ExplainParams[] = [], explanation?: CaptionExplanation): GalleryService {
  const evaluations = new Map([
    [1, { record: record(1, 'test'), items: items(0) }],
    [2, { record: record(2, 'val'), items: items(3) }],
  ]);
  return new GalleryService({
    dataDir: dir,
    evaluations: {
      get: async (id) => evaluations.get(id)?.record ?? null,
      items: async (id) => evaluations.get(id)!.items,
    },
    explain: async (params) => {
      explained.push(params);
      if (!explanation) throw new Error('no explanation in this test');
      return { ...explanation, image: params.image };
    },
  });
}

const base: GalleryQuery = { evaluationIds: [1, 2], sort: 'ciderD', direction: 'asc', wordIn: 'any' };
const ids = (page: { items: { imageId: string }[] }) => page.items.map((item) => item.imageId);

describe('gallery items', () => {
  it('sorts by any score, worst first by default, and pages', async () => {
    const gallery = service();
    const page = await gallery.items(base, { offset: 0, limit: 100 });
    expect(page.total).toBe(6);
    expect(ids(page)).toEqual(['img-0', 'img-1', 'img-2', 'img-3', 'img-4', 'img-5']);
    expect(ids(await gallery.items({ ...base, sort: 'bleu4' }, { offset: 0, limit: 100 }))).toEqual(['img-5', 'img-4', 'img-3', 'img-2', 'img-1', 'img-0']);
    expect(ids(await gallery.items({ ...base, direction: 'desc' }, { offset: 1, limit: 2 }))).toEqual(['img-4', 'img-3']);
    expect(page.sortKeys).toEqual(['ciderD', 'bleu4', 'bleu1', 'rougeL', 'grounded']);
    expect(page.splits).toEqual(['test', 'val']);
    expect(page.evaluations.map((e) => [e.id, e.split, e.checkpoint?.epoch, e.grounded])).toEqual([
      [1, 'test', 3, true],
      [2, 'val', 3, true],
    ]);
    await expect(gallery.items({ ...base, sort: 'meteor' }, { offset: 0, limit: 10 })).rejects.toThrow(/sort: "meteor" is not a score.*ciderD/);
  });

  it('filters by a word of the generated or the reference captions, tokenized like the captions', async () => {
    const gallery = service();
    const circles = await gallery.items({ ...base, word: 'Circles,', wordIn: 'references' }, { offset: 0, limit: 100 });
    expect(ids(circles)).toEqual(['img-4']);
    expect((await gallery.items({ ...base, word: 'circles', wordIn: 'generated' }, { offset: 0, limit: 100 })).total).toBe(0);
    const shape = scenes.images[2]!.scene.objects[0]!.shape;
    const generated = await gallery.items({ ...base, word: shape.toUpperCase(), wordIn: 'generated' }, { offset: 0, limit: 100 });
    expect(generated.items.every((item) => item.caption.split(' ').includes(shape))).toBe(true);
    expect(ids(generated)).toContain('img-2');
  });

  it('filters by split', async () => {
    expect(ids(await service().items({ ...base, split: 'val' }, { offset: 0, limit: 100 }))).toEqual(['img-3', 'img-4', 'img-5']);
  });

  it('gives each caption its grounded verdict, marks the wrong words, and filters by error type', async () => {
    const gallery = service();
    const page = await gallery.items({ ...base, groundedError: 'color' }, { offset: 0, limit: 100 });
    expect(ids(page)).toEqual(['img-1', 'img-3', 'img-5']);
    expect(page.groundedErrorTypes).toContain('color');
    for (const item of page.items) {
      expect(item.grounded!.wrong).toBeGreaterThan(0);
      expect(item.grounded!.errorTypes).toContain('color');
      const wrong = item.grounded!.segments.filter((s) => s.status === 'wrong');
      // The mention (article, colour, shape) is the wrong claim's text.
      expect(wrong.map((s) => s.text).join(' ')).toBe(item.caption);
      expect(wrong[0]!.attributes).toContain('color');
      expect(item.scores.grounded).toBeLessThan(1);
    }
    const right = await gallery.items({ ...base, groundedError: 'none' }, { offset: 0, limit: 100 });
    expect(ids(right)).toEqual(['img-0', 'img-2', 'img-4']);
    expect(right.items.every((item) => item.grounded!.segments.every((s) => s.status !== 'wrong') && item.scores.grounded === 1)).toBe(true);
    expect(ids(await gallery.items({ ...base, sort: 'grounded' }, { offset: 0, limit: 3 })).every((id) => ['img-1', 'img-3', 'img-5'].includes(id))).toBe(true);
  });

  it('marks each occurrence of a repeated wrong mention, and right claims apart from wrong ones', () => {
    const scene = scenes.images[0]!.scene;
    const object = scene.objects[0]!;
    const wrongColor = OTHER_COLOR[object.color]!;
    const caption = `a ${wrongColor} ${object.shape} and a ${wrongColor} ${object.shape} and a ${object.color} ${object.shape}`;
    const claims = [
      { attribute: 'shape', text: `a ${wrongColor} ${object.shape}`, correct: true },
      { attribute: 'color', text: `a ${wrongColor} ${object.shape}`, correct: false },
      { attribute: 'shape', text: `a ${wrongColor} ${object.shape}`, correct: true },
      { attribute: 'color', text: `a ${wrongColor} ${object.shape}`, correct: false },
      { attribute: 'color', text: `a ${object.color} ${object.shape}`, correct: true },
    ];
    expect(segmentsOf(caption, claims)).toEqual([
      { text: `a ${wrongColor} ${object.shape}`, status: 'wrong', attributes: ['color'] },
      { text: 'and', status: 'none', attributes: [] },
      { text: `a ${wrongColor} ${object.shape}`, status: 'wrong', attributes: ['color'] },
      { text: 'and', status: 'none', attributes: [] },
      { text: `a ${object.color} ${object.shape}`, status: 'right', attributes: [] },
    ]);
  });

  it('warns, and still lists captions and scores, when the scenes file is gone', async () => {
    const broken = new GalleryService({
      dataDir: dir,
      evaluations: {
        get: async () => ({ ...record(1, 'test'), metricDefinitions: { grounded: { scenesFile: join(dir, 'moved', 'scenes.json') } } }),
        items: async () => items(0),
      },
      explain: async () => {
        throw new Error('unused');
      },
    });
    const page = await broken.items({ ...base, evaluationIds: [1] }, { offset: 0, limit: 10 });
    expect(page.total).toBe(3);
    expect(page.items.every((item) => item.grounded === null)).toBe(true);
    expect(page.warnings[0]).toMatch(/moved\/scenes\.json/);
    await expect(broken.explain({ evaluationId: 1, imageId: 'img-0', alternatives: 1 })).rejects.toThrow(/does not record its checkpoint/);
  });
});

describe('explaining and reporting', () => {
  const explanation: CaptionExplanation = {
    image: '',
    decoding: { strategy: 'beam', beamWidth: 2, lengthPenalty: 1, minLength: 1, maxLength: 9, noRepeatNgramSize: 0, temperature: 1, topK: 0, topP: 1, seed: 1 },
    variant: 'attention',
    hasAttention: true,
    grid: { rows: 2, cols: 2 },
    fit: 'squash',
    captions: [
      {
        caption: 'a <b>red</b>',
        words: [
          { word: 'a', tokenId: 4, logProb: -0.1, attention: [0.7, 0.1, 0.1, 0.1], uniformity: 0.7 },
          { word: '<b>red</b>', tokenId: 5, logProb: -0.2, attention: [0.1, 0.1, 0.1, 0.7], uniformity: 0.7 },
          { word: '<end>', tokenId: 2, logProb: -0.3, attention: [0.25, 0.25, 0.25, 0.25], uniformity: 1 },
        ],
        logProb: -0.6,
        score: -0.2,
        chosen: true,
      },
    ],
    diagnosis: { meanUniformity: 0.8, nearlyUniform: false, threshold: 0.97 },
    seconds: 0.01,
  };

  it("asks the engine to explain with the evaluation's checkpoint, decoding and image file", async () => {
    const explained: ExplainParams[] = [];
    const gallery = service(explained, explanation);
    const result = await gallery.explain({ evaluationId: 2, imageId: 'img-4', alternatives: 3 });
    expect(result.image).toBe(join(dir, 'Images', scenes.images[4]!.filename));
    expect(explained[0]).toEqual({
      model: { kind: 'checkpoint', path: '/runs/1/checkpoints/best' },
      image: join(dir, 'Images', scenes.images[4]!.filename),
      decoding: { strategy: 'beam', beamWidth: 2, maxLength: 9 },
      alternatives: 3,
      dataDir: dir,
    });
    await expect(gallery.explain({ evaluationId: 2, imageId: 'img-0', alternatives: 3 })).rejects.toThrow(/Evaluation 2 has no image "img-0"/);
    await expect(gallery.explain({ evaluationId: 9, imageId: 'img-0', alternatives: 3 })).rejects.toThrow(/No evaluation with id 9/);
  });

  it('writes one self-contained HTML file with images, captions, scores, marked claims and a heatmap per word', async () => {
    const gallery = service([], explanation);
    const out = join(dir, 'out', 'report.html');
    const report = await gallery.report({ ...base, evaluationIds: [1] }, { out, heatmapImages: 2, limit: 100 });
    expect(report).toMatchObject({ path: out, images: 3, heatmapImages: 2 });
    const html = readFileSync(out, 'utf8');
    expect(report.bytes).toBe(Buffer.byteLength(html));
    // Every image is embedded; nothing is loaded from elsewhere.
    expect(html.match(/<img class="thumb" src="data:image\/jpeg;base64,/g)).toHaveLength(3);
    expect(html).not.toMatch(/(src|href)="(?!data:)/);
    expect(html).not.toMatch(/<script/);
    // Three words (with <end>) for each of the first two images, escaped.
    expect(html.match(/<figure class="tile">/g)).toHaveLength(6);
    expect(html).toContain('&lt;b&gt;red&lt;/b&gt;');
    expect(html).not.toContain('<b>red</b>');
    // img-1 has the wrong colour; the legend shows the mark once more.
    expect(html.match(/<mark class="wrong"/g)).toHaveLength(2);
    expect(html).toContain('sorted by ciderD ascending (worst first)');
    expect(html).toContain('beamWidth=2');
  });

  it('says so in the report when the model has no attention', async () => {
    const gallery = service([], { ...explanation, hasAttention: false, variant: 'merge', grid: null, diagnosis: null });
    const report = await gallery.report({ ...base, evaluationIds: [1] }, { out: join(dir, 'merge.html'), heatmapImages: 5, limit: 100 });
    const html = readFileSync(report.path, 'utf8');
    expect(report.heatmapImages).toBe(0);
    expect(html).toContain('has no attention');
    expect(html).not.toContain('class="tile"');
  });
});
