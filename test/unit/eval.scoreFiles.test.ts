import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadScenes } from '../../src/main/lib/data/shapes/grounded';
import { synthesizeShapes } from '../../src/main/lib/data/shapes/synth';
import { canonicalCaption } from '../../src/main/lib/data/text/tokenize';
import { parseReferences, readReferences } from '../../src/main/lib/eval/references';
import { parseResults, toCocoResults } from '../../src/main/lib/eval/results';
import { scoreFiles } from '../../src/main/lib/eval/scoreFiles';
import { scoreCorpus } from '../../src/main/lib/metrics';
import { cocoAnnotations, karpathyJson, RAW_REFERENCES, RAW_RESULTS, tempDir, writeJson } from '../helpers/evalFixtures';

describe('reference files', () => {
  it('reads COCO annotations: captions grouped by image id, file names kept', () => {
    const refs = parseReferences('refs.json', cocoAnnotations());
    expect(refs.format).toBe('coco');
    expect(refs.images.map((image) => image.imageId)).toEqual(['42', '73', '99']);
    expect(refs.lookup('73')?.captions).toEqual(RAW_REFERENCES['73']);
    expect(refs.lookup('COCO_val2014_000000000099.jpg')?.imageId).toBe('99');
    expect(refs.lookup('val2014/COCO_val2014_000000000042.jpg')?.imageId).toBe('42');
    expect(refs.lookup('1000')).toBeUndefined();
  });

  it('reads Karpathy JSON: cocoid as the id, raw sentences, splits', () => {
    const refs = parseReferences('dataset_coco.json', karpathyJson());
    expect(refs.format).toBe('karpathy');
    expect(refs.lookup('42')).toMatchObject({ split: 'test', captions: RAW_REFERENCES['42'] });
    // Without cocoid (Flickr8k Karpathy files) the id is imgid.
    const flickr = karpathyJson();
    for (const image of flickr.images) delete (image as { cocoid?: number }).cocoid;
    expect(parseReferences('dataset_flickr8k.json', flickr).images.map((image) => image.imageId)).toEqual(['0', '1', '2']);
  });

  it('names the file and JSON path of bad values', () => {
    const bad = cocoAnnotations();
    (bad.annotations[4] as { caption: unknown }).caption = 17;
    expect(() => parseReferences('refs.json', bad)).toThrow('refs.json: $.annotations[4].caption: expected a string, found number 17.');
    const karpathy = karpathyJson();
    delete (karpathy.images[1]!.sentences[0] as { raw?: string }).raw;
    expect(() => parseReferences('k.json', karpathy)).toThrow('k.json: $.images[1].sentences[0]: missing the field "raw".');
    expect(() => parseReferences('x.json', { foo: 1 })).toThrow(/x\.json: \$: neither "annotations"/);
    expect(() => parseReferences('x.json', [])).toThrow(/x\.json: \$: expected COCO annotations/);
  });

  it('reports unreadable and non-JSON files with their path', () => {
    const dir = tempDir();
    expect(() => readReferences(join(dir, 'missing.json'))).toThrow(/missing\.json: cannot read/);
    const broken = join(dir, 'broken.json');
    writeFileSync(broken, '{"annotations": [');
    expect(() => readReferences(broken)).toThrow(/broken\.json: \$: not valid JSON/);
  });
});

describe('results files', () => {
  it('reads the COCO results format', () => {
    expect(parseResults('r.json', RAW_RESULTS).map((r) => [r.imageId, r.jsonPath])).toEqual([
      ['42', '$[0]'],
      ['73', '$[1]'],
      ['99', '$[2]'],
    ]);
  });

  it('refuses a second caption for an image, naming both entries', () => {
    expect(() => parseResults('r.json', [...RAW_RESULTS, { image_id: 73, caption: 'x' }])).toThrow(
      'r.json: $[3]: a second caption for image 73 (the first is $[1]); results hold one caption per image.',
    );
  });

  it('refuses entries without image_id or caption', () => {
    expect(() => parseResults('r.json', [{ image_id: 1 }])).toThrow('r.json: $[0]: missing the field "caption".');
    expect(() => parseResults('r.json', [{ image_id: null, caption: 'a' }])).toThrow(/\$\[0\]\.image_id: expected an image id/);
    expect(() => parseResults('r.json', [])).toThrow(/the results list is empty/);
  });

  it('writes integer ids as numbers and other ids as strings', () => {
    expect(toCocoResults([{ imageId: '42', caption: 'a' }, { imageId: 'img/7.png', caption: 'b' }, { imageId: '007', caption: 'c' }])).toEqual([
      { image_id: 42, caption: 'a' },
      { image_id: 'img/7.png', caption: 'b' },
      { image_id: '007', caption: 'c' },
    ]);
  });
});

describe('scoreFiles', () => {
  it('tokenizes candidates and references alike and scores only the result images', async () => {
    const dir = tempDir();
    const refs = writeJson(dir, 'refs.json', cocoAnnotations({ ...RAW_REFERENCES, '500': ['an unrelated image'] }));
    const results = writeJson(dir, 'results.json', RAW_RESULTS);
    const report = await scoreFiles({ refs, results, perImage: true });
    const expected = scoreCorpus(
      RAW_RESULTS.map((result) => ({
        imageId: String(result.image_id),
        candidate: canonicalCaption(result.caption),
        references: RAW_REFERENCES[String(result.image_id)]!.map(canonicalCaption),
      })),
    );
    expect(report.aggregate).toEqual(expected.aggregate);
    expect(report.perImage?.map((image) => image.candidate)).toEqual(['a dog running on the grass', 'two cats on a couch', 'a red circle and a blue square']);
    expect(report.refs).toMatchObject({ format: 'coco', images: 4 });
    expect(report.splits).toEqual({ '(none)': 3 });
    expect(report.metrics.unavailable.map((metric) => metric.name)).toEqual(['METEOR', 'SPICE']);
    expect(report.grounded).toBeNull();
    // The candidates share words with their references, so every score is clearly above zero.
    expect(report.aggregate.bleu1).toBeGreaterThan(0.5);
    expect(report.aggregate.ciderD).toBeGreaterThan(0.1);
  });

  it('gives the same scores from COCO and Karpathy references', async () => {
    const dir = tempDir();
    const results = writeJson(dir, 'results.json', RAW_RESULTS);
    const coco = await scoreFiles({ refs: writeJson(dir, 'coco.json', cocoAnnotations()), results, perImage: false });
    const karpathy = await scoreFiles({ refs: writeJson(dir, 'karpathy.json', karpathyJson()), results, perImage: false });
    expect(karpathy.aggregate).toEqual(coco.aggregate);
    expect(karpathy.splits).toEqual({ test: 3 });
    expect(coco.perImage).toBeNull();
  });

  it('names the results entry whose image has no references', async () => {
    const dir = tempDir();
    const refs = writeJson(dir, 'refs.json', cocoAnnotations());
    const results = writeJson(dir, 'results.json', [...RAW_RESULTS, { image_id: 1234, caption: 'a cat' }]);
    await expect(scoreFiles({ refs, results, perImage: false })).rejects.toThrow(
      `${results}: $[3].image_id: image 1234 has no reference captions in ${refs}.`,
    );
  });

  it('refuses two results that name the same image by id and by file name', async () => {
    const dir = tempDir();
    const refs = writeJson(dir, 'refs.json', cocoAnnotations());
    const results = writeJson(dir, 'results.json', [...RAW_RESULTS, { image_id: 'COCO_val2014_000000000042.jpg', caption: 'a dog' }]);
    await expect(scoreFiles({ refs, results, perImage: false })).rejects.toThrow(/\$\[3\]: image COCO_val2014_000000000042\.jpg is the same reference image as \$\[0\]/);
  });
});

describe('scoreFiles on a Shapes dataset', () => {
  it('reports the grounded accuracy from scenes.json beside the references', async () => {
    const dir = tempDir('captioner-shapes-');
    const synth = await synthesizeShapes({ out: dir, images: 6, seed: 3, imageSize: 64 });
    const scenes = (await loadScenes(synth.files.scenes)).images;
    // One caption true to its scene (the dataset's own first caption), one naming a shape the scene lacks.
    const first = scenes[0]!;
    const missing = ['circle', 'square', 'triangle', 'star', 'cross', 'diamond'].find(
      (shape) => !scenes[1]!.scene.objects.some((object) => object.shape === shape),
    )!;
    const karpathy = JSON.parse(readFileSync(synth.files.karpathy, 'utf8')) as { images: { imgid: number; filename: string; sentences: { raw: string }[] }[] };
    const byName = new Map(karpathy.images.map((image) => [image.filename, image]));
    const results = writeJson(dir, 'results.json', [
      { image_id: byName.get(first.filename)!.imgid, caption: byName.get(first.filename)!.sentences[0]!.raw },
      { image_id: scenes[1]!.filename, caption: `a ${missing}` },
    ]);
    const report = await scoreFiles({ refs: synth.files.karpathy, results, perImage: false });
    expect(report.grounded?.scenesFile).toBe(synth.files.scenes);
    expect(report.grounded?.images).toBe(2);
    expect(report.grounded?.attributes.shape!.claims).toBeGreaterThanOrEqual(2);
    // The false shape claim is counted wrong; the reference caption's claims are all right.
    expect(report.grounded?.attributes.shape!.correct).toBe(report.grounded!.attributes.shape!.claims - 1);
  });
});
