import { unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { detectFormat, readDataset, type CaptionDataset, type DatasetFormat } from '../../src/main/lib/data/readers';
import {
  FIXTURE_CAPTIONS,
  tempDir,
  write,
  writeCoco,
  writeFlickr30kPipeCsv,
  writeFlickr30kToken,
  writeFlickr8kCsv,
  writeFlickr8kToken,
  writeGenericCsv,
  writeImage,
  writeJsonl,
  writeKarpathy,
  writeSidecarFolder,
} from '../helpers/datasetFixtures';

let dir: string;
let cleanup: () => void;
beforeEach(() => ({ dir, cleanup } = tempDir()));
afterEach(() => cleanup());

/** image base name → captions, whatever folder prefix the format uses. */
function captionsByBaseName(dataset: CaptionDataset): Record<string, string[]> {
  return Object.fromEntries(dataset.images.map((image) => [image.id.split('/').pop() as string, image.captions]));
}

const cases: [DatasetFormat, (root: string) => Promise<string>][] = [
  ['flickr8k-csv', writeFlickr8kCsv],
  ['flickr8k-token', writeFlickr8kToken],
  ['flickr30k', writeFlickr30kToken],
  ['karpathy', writeKarpathy],
  ['csv', writeGenericCsv],
  ['jsonl', writeJsonl],
  ['folder', writeSidecarFolder],
];

describe('every format, auto-detected from its folder', () => {
  for (const [format, writer] of cases) {
    it(`reads ${format}`, async () => {
      await writer(dir);
      const dataset = await readDataset(dir);
      expect(dataset.format).toBe(format);
      expect(captionsByBaseName(dataset)).toEqual(
        Object.fromEntries(Object.entries(FIXTURE_CAPTIONS).map(([name, captions]) => [name, captions.map((c) => c.trim())])),
      );
      expect(dataset.problems.counts).toEqual({});
      for (const image of dataset.images) expect(image.file.startsWith(dataset.imageRoot)).toBe(true);
    });
  }

  it('reads COCO with splits from the caption file names and images in train2014/ val2014/', async () => {
    await writeCoco(dir);
    const dataset = await readDataset(dir);
    expect(dataset.format).toBe('coco');
    expect(dataset.hasSplits).toBe(true);
    expect(dataset.imageRoot).toBe(dir);
    expect(dataset.images.map((image) => [image.id, image.split])).toEqual([
      ['train2014/COCO_train2014_000000000001.jpg', 'train'],
      ['train2014/COCO_train2014_000000000002.jpg', 'train'],
      ['val2014/COCO_val2014_000000000003.jpg', 'val'],
    ]);
    expect(dataset.images[1]?.captions).toEqual(FIXTURE_CAPTIONS['cat.jpg']);
  });

  it('reads a single COCO file without splits of its own', async () => {
    const annotations = await writeCoco(dir);
    const dataset = await readDataset(join(annotations, 'captions_val2014.json'));
    expect(dataset.format).toBe('coco');
    expect(dataset.hasSplits).toBe(false);
    expect(dataset.images.map((image) => image.id)).toEqual(['val2014/COCO_val2014_000000000003.jpg']);
  });

  it('reads Kaggle Flickr30k results.csv with its nested image folder and its known broken rows', async () => {
    const file = await writeFlickr30kPipeCsv(dir);
    writeFileSync(file, `${(await import('node:fs')).readFileSync(file, 'utf8')}bird.jpg| 4 A bird with a missing separator .\n`);
    const dataset = await readDataset(dir);
    expect(dataset.format).toBe('flickr30k');
    expect(dataset.imageRoot).toBe(join(dir, 'flickr30k_images', 'flickr30k_images'));
    expect(captionsByBaseName(dataset)['bird.jpg']).toEqual([...(FIXTURE_CAPTIONS['bird.jpg'] as string[]), 'A bird with a missing separator .']);
  });

  it('takes Flickr8k splits from the split files, dev as val', async () => {
    await writeFlickr8kToken(dir);
    const dataset = await readDataset(dir);
    expect(dataset.hasSplits).toBe(true);
    expect(Object.fromEntries(dataset.images.map((image) => [image.id, image.split]))).toEqual({ 'dog.jpg': 'train', 'cat.jpg': 'val', 'bird.jpg': 'test' });
  });

  it('maps Karpathy restval to train', async () => {
    await writeKarpathy(dir);
    const dataset = await readDataset(dir);
    expect(dataset.images.map((image) => image.split)).toEqual(['train', 'train', 'test']);
  });

  it('honours an explicit format and a named file', async () => {
    const file = await writeGenericCsv(dir);
    expect(await detectFormat(file)).toEqual({ format: 'csv', source: file });
    expect((await readDataset(file, { format: 'csv' })).images).toHaveLength(3);
    await expect(readDataset(dir, { format: 'coco' })).rejects.toThrow(/found no coco annotations/);
  });

  it('splits a sidecar folder by its train/ val/ test/ subfolders', async () => {
    await writeImage(join(dir, 'train', 'a.png'), 'png');
    write(join(dir, 'train', 'a.txt'), 'a blue box\n');
    await writeImage(join(dir, 'validation', 'b.png'), 'png');
    write(join(dir, 'validation', 'b.txt'), 'another blue box\n');
    const dataset = await readDataset(dir);
    expect(dataset.format).toBe('folder');
    expect(dataset.hasSplits).toBe(true);
    expect(dataset.images.map((image) => [image.id, image.split])).toEqual([
      ['train/a.png', 'train'],
      ['validation/b.png', 'val'],
    ]);
  });

  it('accepts absolute image paths and roots them at their common folder', async () => {
    await writeImage(join(dir, 'pics', 'x', 'one.jpg'));
    await writeImage(join(dir, 'pics', 'y', 'two.jpg'));
    const file = write(
      join(dir, 'meta', 'list.jsonl'),
      [JSON.stringify({ path: join(dir, 'pics', 'x', 'one.jpg'), text: 'one' }), JSON.stringify({ path: join(dir, 'pics', 'y', 'two.jpg'), text: 'two' })].join('\n'),
    );
    const dataset = await readDataset(file);
    expect(dataset.imageRoot).toBe(join(dir, 'pics'));
    expect(dataset.images.map((image) => image.id)).toEqual(['x/one.jpg', 'y/two.jpg']);
  });
});

describe('problems are reported, not fatal', () => {
  it('skips and lists missing and unreadable images', async () => {
    await writeFlickr8kCsv(dir);
    unlinkSync(join(dir, 'Images', 'cat.jpg'));
    writeFileSync(join(dir, 'Images', 'bird.jpg'), 'this is not an image');
    const dataset = await readDataset(dir);
    expect(dataset.images.map((image) => image.id)).toEqual(['dog.jpg']);
    expect(dataset.problems.counts).toEqual({ 'missing-image': 1, 'unreadable-image': 1 });
    const missing = dataset.problems.examples.find((problem) => problem.kind === 'missing-image');
    expect(missing).toMatchObject({ image: 'cat.jpg', file: join(dir, 'captions.txt'), line: 4 });
  });

  it('reports duplicate captions, empty captions and images with no caption', async () => {
    await writeSidecarFolder(dir);
    write(join(dir, 'dog.txt'), 'A dog runs.\na DOG runs\n...\n');
    unlinkSync(join(dir, 'bird.txt'));
    const dataset = await readDataset(dir);
    expect(dataset.problems.counts).toEqual({ 'duplicate-caption': 1, 'empty-caption': 1, 'no-caption': 1 });
    expect(dataset.images.find((image) => image.id === 'bird.jpg')?.captions).toEqual([]);
    expect(dataset.images.find((image) => image.id === 'dog.jpg')?.captions).toEqual(['A dog runs.', 'a DOG runs']);
  });

  it('reports orphan sidecars and COCO captions for unknown image ids', async () => {
    await writeSidecarFolder(dir);
    write(join(dir, 'ghost.txt'), 'nobody\n');
    expect((await readDataset(dir)).problems.counts).toEqual({ 'orphan-caption-file': 1 });

    const coco = tempDir();
    try {
      const annotations = await writeCoco(coco.dir);
      const file = join(annotations, 'captions_val2014.json');
      const json = JSON.parse((await import('node:fs')).readFileSync(file, 'utf8')) as { annotations: unknown[] };
      json.annotations.push({ id: 99, image_id: 12345, caption: 'lost' });
      writeFileSync(file, JSON.stringify(json));
      const dataset = await readDataset(file);
      expect(dataset.problems.counts).toEqual({ 'unknown-image': 1 });
      expect(dataset.problems.examples[0]?.jsonPath).toBe('$.annotations[1]');
    } finally {
      coco.cleanup();
    }
  });

  it('reports images left out of the Flickr8k split files', async () => {
    const token = await writeFlickr8kToken(dir);
    writeFileSync(join(dir, 'Flickr8k_text', 'Flickr_8k.testImages.txt'), 'nothere.jpg\n');
    const dataset = await readDataset(token);
    expect(dataset.problems.counts).toEqual({ 'not-in-split': 1, 'unknown-image': 1 });
  });

  it('says where it looked when the image folder cannot be found (and, with no usable caption, refuses the dataset)', async () => {
    write(join(dir, 'captions.txt'), 'image,caption\nx.jpg,a thing\n');
    const error = await readDataset(dir).catch((e: Error) => e);
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toContain('no usable captions');
    expect((error as Error).message).toContain('1 image-folder-not-found, 1 missing-image');
    expect((error as Error).message).toContain(join(dir, 'Images'));
  });
});

describe('malformed annotations fail with the file and the line or JSON path', () => {
  const bad: [string, () => Promise<string>, RegExp][] = [
    ['flickr8k-csv: a row without caption', async () => {
      await writeFlickr8kCsv(dir);
      return write(join(dir, 'captions.txt'), 'image,caption\ndog.jpg,ok\ncat.jpg\n');
    }, /captions\.txt:3: expected "image,caption"/],
    ['flickr8k-token: a line without tab', async () => {
      const file = await writeFlickr8kToken(dir);
      return write(file, 'dog.jpg#0\tfine\ndog.jpg#1 no tab here\n');
    }, /Flickr8k\.token\.txt:2: expected "IMAGE#N<TAB>caption"/],
    ['flickr30k: a bad pipe row', async () => {
      await writeFlickr30kPipeCsv(dir);
      return write(join(dir, 'results.csv'), 'image_name| comment_number| comment\ndog.jpg| 0| ok\ncat.jpg|\n');
    }, /results\.csv:3: expected "image_name\| comment_number\| comment"/],
    ['coco: caption is not a string', async () => {
      const annotations = await writeCoco(dir);
      return write(join(annotations, 'captions_train2014.json'), JSON.stringify({ images: [{ id: 1, file_name: 'a.jpg' }], annotations: [{ image_id: 1, caption: 7 }] }));
    }, /captions_train2014\.json at \$\.annotations\[0\]\.caption: expected a string/],
    ['coco: truncated JSON', async () => {
      const annotations = await writeCoco(dir);
      return write(join(annotations, 'captions_train2014.json'), '{"images": [\n{"id": 1,\n "file_name": "a.jpg"},\n');
    }, /captions_train2014\.json:\d+: invalid JSON/],
    ['karpathy: unknown split', async () => {
      return write(join(dir, 'dataset_x.json'), JSON.stringify({ images: [{ filename: 'a.jpg', split: 'holdout', sentences: [] }] }));
    }, /dataset_x\.json at \$\.images\[0\]\.split: expected train, val, test or restval/],
    ['karpathy: sentence without text', async () => {
      return write(join(dir, 'dataset_x.json'), JSON.stringify({ images: [{ filename: 'a.jpg', split: 'train', sentences: [{ imgid: 0 }] }] }));
    }, /at \$\.images\[0\]\.sentences\[0\]: expected "raw"/],
    ['csv: no caption column', async () => write(join(dir, 'data.csv'), 'image,label_id\na.jpg,3\n'), /data\.csv:1: no caption column/],
    ['csv: wrong field count', async () => write(join(dir, 'data.csv'), 'caption,image\nhello,a.jpg\nonly-one-field\n'), /data\.csv:3: expected 2 fields/],
    ['csv: unclosed quote', async () => write(join(dir, 'data.csv'), 'image,caption\na.jpg,"never closed\n'), /data\.csv:2: a quoted field is never closed/],
    ['jsonl: invalid JSON', async () => write(join(dir, 'c.jsonl'), '{"image":"a.jpg","caption":"x"}\n{"image": oops}\n'), /c\.jsonl:2: invalid JSON/],
    ['jsonl: captions not strings', async () => write(join(dir, 'c.jsonl'), '{"image":"a.jpg","captions":[1,2]}\n'), /c\.jsonl:1: "captions" must be a string or an array of strings/],
  ];
  for (const [name, make, message] of bad) {
    it(name, async () => {
      const file = await make();
      await expect(readDataset(file)).rejects.toThrow(message);
    });
  }

  it('names an unknown layout and lists the formats', async () => {
    write(join(dir, 'notes.md'), '# nothing here');
    await expect(readDataset(dir)).rejects.toThrow(/not a dataset in a known format[\s\S]*karpathy/);
  });

  it('a sidecar folder with unreadable images still reads the rest', async () => {
    await writeSidecarFolder(dir);
    writeFileSync(join(dir, 'broken.png'), Buffer.from([0x89, 0x50]));
    const dataset = await readDataset(dir);
    expect(dataset.images).toHaveLength(3);
    expect(dataset.problems.counts['unreadable-image']).toBe(1);
  });
});
