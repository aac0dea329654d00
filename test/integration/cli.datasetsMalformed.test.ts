/**
 * Malformed datasets through the real CLI: a file that looks like a caption
 * file but cannot be read as one is an error naming the file, the line or
 * JSON path and what was expected, and is never imported as an empty image
 * folder; UTF-16 with a BOM is read; an overlong caption is reported and
 * skipped; a COCO image_id of the wrong type is refused with its JSON path.
 */
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { DatasetStats } from '../../src/shared/datasetsTypes';
import { tempDir, write, writeFixtureImages, FIXTURE_CAPTIONS } from '../helpers/datasetFixtures';
import { jsonLines, runCli } from '../helpers/runCli';

let temp: ReturnType<typeof tempDir>;
beforeEach(() => (temp = tempDir('cli-malformed-')));
afterEach(() => temp.cleanup());

/** A Flickr8k-like folder with real images and the given captions file. */
async function datasetWith(name: string, content: string | Buffer): Promise<{ root: string; file: string }> {
  const root = join(temp.dir, 'ds');
  await writeFixtureImages(join(root, 'Images'));
  return { root, file: write(join(root, name), content) };
}

async function expectRefused(root: string, message: RegExp): Promise<void> {
  const dataDir = join(temp.dir, 'data');
  const stats = await runCli(['dataset', 'stats', root, '--data-dir', dataDir]);
  expect(stats.code).toBe(1);
  expect(stats.stderr).toMatch(message);
  const imported = await runCli(['dataset', 'import', root, '--json', '--data-dir', dataDir]);
  expect(imported.code).toBe(1);
  expect(imported.stderr).toMatch(message);
  expect(jsonLines<{ type: string }>(imported.stdout)).toEqual([expect.objectContaining({ type: 'error' })]);
  const list = await runCli(['dataset', 'list', '--json', '--data-dir', dataDir]);
  expect(list.stdout.trim()).toBe('');
}

const escaped = (path: string) => path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

describe('a caption file that cannot be read is an error, never an empty folder dataset', () => {
  it('an empty captions.txt', async () => {
    const { root, file } = await datasetWith('captions.txt', '');
    await expectRefused(root, new RegExp(`${escaped(file)}: the file is empty: expected the header "image,caption"`));
  });

  it('a header-only captions.txt', async () => {
    const { root, file } = await datasetWith('captions.txt', 'image,caption\n');
    await expectRefused(root, new RegExp(`${escaped(file)}: no usable captions \\(read as flickr8k-csv`));
  });

  it('binary garbage', async () => {
    const garbage = Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919) % 256));
    const { root, file } = await datasetWith('captions.txt', garbage);
    await expectRefused(root, new RegExp(`${escaped(file)}:1: binary data \\(a zero byte at offset 0\\)`));
  });

  it('invalid UTF-8 names its line', async () => {
    const { root, file } = await datasetWith('captions.txt', Buffer.concat([Buffer.from('image,caption\ndog.jpg,a dog\ncat.jpg,a '), Buffer.from([0xc3, 0x28]), Buffer.from(' cat\n')]));
    await expectRefused(root, new RegExp(`${escaped(file)}:3: invalid UTF-8 at offset 38`));
  });

  it('one giant line', async () => {
    const { root, file } = await datasetWith('captions.txt', 'x'.repeat(3_000_000));
    await expectRefused(root, new RegExp(`${escaped(file)}:1: line 1 is "x{60}"… \\(3000000 characters\\): expected the header`));
  });

  it('a Karpathy JSON without sentences', async () => {
    const { root, file } = await datasetWith('dataset_mine.json', JSON.stringify({ images: [{ filename: 'dog.jpg', split: 'train' }] }));
    await expectRefused(root, new RegExp(`${escaped(file)} at \\$\\.images\\[0\\]\\.sentences: missing: expected a Karpathy JSON`));
  });

  it('a Karpathy JSON with images as an object', async () => {
    const { root, file } = await datasetWith('dataset_mine.json', JSON.stringify({ images: { filename: 'dog.jpg', sentences: [] } }));
    await expectRefused(root, new RegExp(`${escaped(file)} at \\$\\.images: expected an array`));
  });

  it('a COCO image_id given as a string is refused with its JSON path', async () => {
    const root = join(temp.dir, 'coco');
    await writeFixtureImages(root);
    write(join(root, 'captions_mine.json'), JSON.stringify({ images: [{ id: 0, file_name: 'dog.jpg' }], annotations: [{ image_id: '0', caption: 'a dog' }] }));
    await expectRefused(root, /captions_mine\.json at \$\.annotations\[0\]\.image_id: expected an integer, as \$\.images\[\]\.id, got a string "0"/);
  });
});

describe('what can be read is read', () => {
  it('UTF-16 with a byte-order mark, little and big endian', async () => {
    for (const order of ['le', 'be'] as const) {
      const rows = Object.entries(FIXTURE_CAPTIONS).flatMap(([image, captions]) => captions.map((caption) => `${image},${caption}`));
      const text = `image,caption\r\n${rows.join('\r\n')}\r\n`;
      const le = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]);
      const bytes = order === 'le' ? le : Buffer.concat([Buffer.from([0xfe, 0xff]), Buffer.from(text, 'utf16le').swap16()]);
      const { root } = await datasetWith('captions.txt', bytes);
      const result = await runCli(['dataset', 'stats', root, '--json', '--data-dir', join(temp.dir, 'data')]);
      expect(result.code, result.stderr).toBe(0);
      expect(JSON.parse(result.stdout) as DatasetStats).toMatchObject({ format: 'flickr8k-csv', captions: rows.length });
    }
  });

  it('an overlong caption is a problem with its line, and the rest is read', async () => {
    const huge = 'word '.repeat(2_000_000);
    const { root, file } = await datasetWith('captions.txt', `image,caption\ndog.jpg,a dog runs\ndog.jpg,${huge}\ncat.jpg,a cat sits\n`);
    const result = await runCli(['dataset', 'stats', root, '--json', '--data-dir', join(temp.dir, 'data')]);
    expect(result.code, result.stderr).toBe(0);
    const stats = JSON.parse(result.stdout) as DatasetStats;
    expect(stats.captions).toBe(2);
    expect(stats.problems.counts['caption-too-long']).toBe(1);
    expect(stats.problems.examples.find((p) => p.kind === 'caption-too-long')).toMatchObject({ file, line: 3, message: expect.stringContaining('10,000,000 characters long (the limit is 2,000)') });
  });
});

describe('dataset stats --verify', () => {
  it('decodes every image in the engine and lists each one that cannot be decoded, with its reason', async () => {
    const root = join(temp.dir, 'verify');
    await writeFixtureImages(join(root, 'Images'));
    const rows = Object.entries(FIXTURE_CAPTIONS).flatMap(([image, captions]) => captions.map((caption) => `${image},${caption}`));
    write(join(root, 'captions.txt'), ['image,caption', ...rows, 'notes.jpg,a text file'].join('\n'));
    const { readFileSync, writeFileSync } = await import('node:fs');
    const dog = join(root, 'Images', 'dog.jpg');
    writeFileSync(dog, readFileSync(dog).subarray(0, 300));
    write(join(root, 'Images', 'notes.jpg'), Buffer.concat([Buffer.from([0xff, 0xd8, 0xff]), Buffer.from('just some text pretending')]));
    const dataDir = join(temp.dir, 'data');
    const plain = await runCli(['dataset', 'stats', root, '--data-dir', dataDir]);
    expect(plain.stdout).toMatch(/Problems\s+none/);
    const verified = await runCli(['dataset', 'stats', root, '--verify', '--data-dir', dataDir]);
    expect(verified.code, verified.stderr).toBe(0);
    expect(verified.stdout).toMatch(/Problems\s+unreadable-image 2/);
    expect(verified.stdout).toContain('Unreadable     2 images cannot be decoded:');
    expect(verified.stdout).toMatch(new RegExp(`${escaped(dog)}: truncated`));
    expect(verified.stdout).toMatch(new RegExp(`${escaped(join(root, 'Images', 'notes.jpg'))}: (not an image|cannot be decoded|truncated)`));
    const json = await runCli(['dataset', 'stats', root, '--verify', '--json', '--data-dir', dataDir]);
    const stats = JSON.parse(json.stdout) as DatasetStats & { unreadableImages: Array<{ id: string; reason: string }> };
    expect(stats.unreadableImages.map((image) => image.id).sort()).toEqual(['dog.jpg', 'notes.jpg']);
    expect(stats.problems.counts['unreadable-image']).toBe(2);
  }, 120_000);
});
