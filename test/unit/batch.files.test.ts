/** Batch captioning's plain-Node parts: globs, the lazy folder listing, caption files and the job-wide outputs. */
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BatchItem } from '../../src/shared/batchTypes';
import { writeFileAtomic } from '../../src/main/lib/batch/atomicWrite';
import { globToRegExp, pathFilter } from '../../src/main/lib/batch/glob';
import { countImages, listFolder, type ListedEntry } from '../../src/main/lib/batch/listFolder';
import { csvField, writeOutputFile } from '../../src/main/lib/batch/outputs';
import { normalizeSidecarExt, sidecarPath, skippedForExisting, writeSidecar } from '../../src/main/lib/batch/sidecar';
import { writeBatchFolder, type BatchFolder } from '../helpers/batchFolder';
import { tempDir, write } from '../helpers/datasetFixtures';

let dir: string;
let cleanup: () => void;
let folder: BatchFolder;
beforeAll(async () => {
  ({ dir, cleanup } = tempDir('captioner-batch-'));
  folder = await writeBatchFolder(join(dir, 'tree'));
});
afterAll(() => cleanup());

async function collect(iterable: AsyncIterable<ListedEntry>): Promise<ListedEntry[]> {
  const out: ListedEntry[] = [];
  for await (const entry of iterable) out.push(entry);
  return out;
}

describe('globs', () => {
  it('match single folders with *, any depth with **, classes and alternatives', () => {
    expect(globToRegExp('*.jpg').test('a.jpg')).toBe(true);
    expect(globToRegExp('*.jpg').test('x/a.jpg')).toBe(false);
    expect(globToRegExp('**/*.jpg').test('a.jpg')).toBe(true);
    expect(globToRegExp('**/*.jpg').test('x/y/a.JPG')).toBe(true);
    expect(globToRegExp('nested/**').test('nested/deeper/a.png')).toBe(true);
    expect(globToRegExp('img-[0-9].png').test('img-7.png')).toBe(true);
    expect(globToRegExp('img-[!0-9].png').test('img-7.png')).toBe(false);
    expect(globToRegExp('*.{png,webp}').test('a.webp')).toBe(true);
    expect(globToRegExp('*.{png,webp}').test('a.jpg')).toBe(false);
    expect(globToRegExp('a?c.jpg').test('abc.jpg')).toBe(true);
    expect(globToRegExp('a.c').test('abc')).toBe(false);
  });

  it('names a malformed glob in the error', () => {
    expect(() => globToRegExp('img-[0-9.png')).toThrow(/img-\[0-9\.png.*closing "\]"/);
    expect(() => globToRegExp('*.{png')).toThrow(/closing "}"/);
    expect(() => globToRegExp(' ')).toThrow(/empty/);
  });

  it('select by include, then drop by exclude; a glob without / matches the file name anywhere', () => {
    const select = pathFilter(['*.jpg', 'nested/*.png'], ['**/gray*']);
    expect(select('a.jpg')).toBe(true);
    expect(select('nested/deeper/rotated.jpg')).toBe(true);
    expect(select('nested/gray.jpg')).toBe(false);
    expect(select('nested/alpha.png')).toBe(true);
    expect(select('b.png')).toBe(false);
    expect(pathFilter([], [])('anything/at/all.png')).toBe(true);
  });
});

describe('listFolder', () => {
  it('lists images recursively in name order, counting non-images and leaving out hidden files', async () => {
    writeFileSync(join(folder.root, '.hidden.jpg'), 'x');
    const entries = await collect(listFolder({ folder: folder.root, recursive: true, include: [], exclude: [] }));
    const images = entries.filter((entry) => entry.kind === 'image').map((entry) => entry.relativePath);
    expect([...images].sort()).toEqual([...folder.readable, ...folder.corrupt].sort());
    const ignored = entries.filter((entry) => entry.kind === 'ignored').map((entry) => entry.relativePath);
    // The caption files are not images either.
    expect(ignored.sort()).toEqual([...folder.notImages, 'b.txt', 'nested/gray.txt'].sort());
    expect(entries.some((entry) => entry.relativePath.includes('.hidden'))).toBe(false);
    // Stable order: a folder's files in name order, then its subfolders in name order.
    const top = images.filter((path) => !path.includes('/'));
    expect(top).toEqual([...top].sort());
    expect(images.indexOf('nested/alpha.png')).toBeGreaterThan(images.indexOf('g.svg'));
    expect(images.indexOf('nested/deeper/multi.tif')).toBeGreaterThan(images.indexOf('nested/h16.png'));
    expect(images.every((path, index) => images.indexOf(path) === index)).toBe(true);
    const absolute = entries.find((entry) => entry.relativePath === 'café 日本.png')!;
    expect(absolute.path).toBe(join(folder.root, 'café 日本.png'));
  });

  it('stays in the folder when not recursive, and reports excluded images apart from ignored files', async () => {
    const entries = await collect(listFolder({ folder: folder.root, recursive: false, include: ['*.jpg', '*.png'], exclude: ['photo*'] }));
    expect(entries.filter((entry) => entry.kind === 'image').map((entry) => entry.relativePath)).toEqual(['a.jpg', 'b.png', 'broken.jpg', 'café 日本.png']);
    expect(entries.filter((entry) => entry.kind === 'excluded').map((entry) => entry.relativePath)).toEqual(['c.webp', 'd.gif', 'e.tiff', 'f.avif', 'g.svg', 'photo with spaces.jpg']);
    expect(entries.every((entry) => !entry.relativePath.includes('/'))).toBe(true);
    expect(await countImages({ folder: folder.root, recursive: true, include: [], exclude: [] })).toBe(folder.readable.length + folder.corrupt.length);
  });

  it('fails naming a folder that cannot be read', async () => {
    await expect(collect(listFolder({ folder: join(dir, 'missing'), recursive: true, include: [], exclude: [] }))).rejects.toThrow(/Cannot read the folder .*missing/);
  });
});

describe('caption files', () => {
  it('sit next to the image with the chosen extension', () => {
    expect(sidecarPath('/x/a b.jpg', '.txt')).toBe('/x/a b.txt');
    expect(sidecarPath('/x/a.tar.png', 'caption')).toBe('/x/a.tar.caption');
    expect(normalizeSidecarExt('txt')).toBe('.txt');
    expect(() => normalizeSidecarExt('.')).toThrow(/extension/);
    expect(() => normalizeSidecarExt('a/b')).toThrow(/extension/);
  });

  it('skip leaves an existing file alone; overwrite replaces it; append adds a line once', () => {
    const image = write(join(dir, 'side', 'img.jpg'), 'x');
    const target = join(dir, 'side', 'img.txt');
    const options = { ext: '.txt', prefix: 'P: ', suffix: '.', existing: 'skip' as const };
    expect(skippedForExisting(image, options)).toBe(false);
    expect(writeSidecar(image, 'a dog', options)).toBe('created');
    expect(readFileSync(target, 'utf8')).toBe('P: a dog.');
    expect(skippedForExisting(image, options)).toBe(true);
    // Writing the same caption again (a resumed job) changes nothing.
    expect(writeSidecar(image, 'a dog', options)).toBe('unchanged');
    writeFileSync(target, 'mine');
    expect(writeSidecar(image, 'a cat', options)).toBe('kept-existing');
    expect(readFileSync(target, 'utf8')).toBe('mine');
    expect(writeSidecar(image, 'a cat', { ...options, existing: 'overwrite' })).toBe('overwritten');
    expect(readFileSync(target, 'utf8')).toBe('P: a cat.');
    expect(writeSidecar(image, 'a bird', { ...options, existing: 'append' })).toBe('appended');
    expect(writeSidecar(image, 'a bird', { ...options, existing: 'append' })).toBe('unchanged');
    expect(readFileSync(target, 'utf8')).toBe('P: a cat.\nP: a bird.');
    // No temporary files are left behind.
    expect(readdirSync(join(dir, 'side')).sort()).toEqual(['img.jpg', 'img.txt']);
  });

  it('an atomic write that fails leaves neither a partial file nor a temporary one', () => {
    expect(() => writeFileAtomic(join(dir, 'no-such-folder', 'x.txt'), 'x')).toThrow();
    expect(existsSync(join(dir, 'no-such-folder'))).toBe(false);
  });
});

describe('job outputs', () => {
  const item = (path: string, caption: string | null, extra: Partial<BatchItem> = {}): BatchItem => ({
    path: `/root/${path}`,
    relativePath: path,
    outcome: caption === null ? 'failed' : 'captioned',
    caption,
    editedCaption: null,
    confidence: caption === null ? null : -0.5,
    logProb: caption === null ? null : -2,
    error: caption === null ? 'corrupt' : null,
    ...extra,
  });
  async function* pages(): AsyncGenerator<BatchItem[]> {
    yield [item('a.jpg', 'a dog, "running"'), item('bad.jpg', null)];
    yield [item('sub/b.png', 'a cat', { editedCaption: 'a grey cat' }), item('c.png', null, { outcome: 'skipped', error: 'exists' })];
  }
  const context = { model: 'tiny', decoding: 'beam 3' };

  it('CSV quotes fields per RFC 4180 and uses the reviewed caption', async () => {
    const file = join(dir, 'out.csv');
    expect(await writeOutputFile('csv', file, pages(), context)).toBe(2);
    expect(readFileSync(file, 'utf8')).toBe(
      'path,caption,score,model,decoding\n/root/a.jpg,"a dog, ""running""",-0.5,tiny,beam 3\n/root/sub/b.png,a grey cat,-0.5,tiny,beam 3\n',
    );
    expect(csvField('line\nbreak')).toBe('"line\nbreak"');
  });

  it('JSONL has one object per captioned image', async () => {
    const file = join(dir, 'out.jsonl');
    await writeOutputFile('jsonl', file, pages(), context);
    const lines = readFileSync(file, 'utf8').trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(lines).toEqual([
      { path: '/root/a.jpg', caption: 'a dog, "running"', score: -0.5, model: 'tiny', decoding: 'beam 3' },
      { path: '/root/sub/b.png', caption: 'a grey cat', score: -0.5, model: 'tiny', decoding: 'beam 3' },
    ]);
  });

  it('COCO results are a JSON list keyed by the relative path', async () => {
    const file = join(dir, 'out.json');
    await writeOutputFile('coco', file, pages(), context);
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual([
      { image_id: 'a.jpg', caption: 'a dog, "running"' },
      { image_id: 'sub/b.png', caption: 'a grey cat' },
    ]);
  });

  it('a failure while writing leaves the previous file untouched', async () => {
    const file = join(dir, 'keep.jsonl');
    writeFileSync(file, 'old\n');
    async function* failing(): AsyncGenerator<BatchItem[]> {
      yield [item('a.jpg', 'x')];
      throw new Error('store went away');
    }
    await expect(writeOutputFile('jsonl', file, failing(), context)).rejects.toThrow(/store went away/);
    expect(readFileSync(file, 'utf8')).toBe('old\n');
    expect(readdirSync(dir).filter((name) => name.includes('.tmp-'))).toEqual([]);
  });
});
