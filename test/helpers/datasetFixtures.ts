/** Tiny caption datasets in every supported format, written into a temporary folder by the tests. */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import sharp from 'sharp';

export function tempDir(prefix = 'captioner-data-'): { dir: string; cleanup(): void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export function write(path: string, content: string | Buffer): string {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, content);
  return path;
}

export type ImageFormat = 'jpeg' | 'png' | 'webp' | 'gif' | 'tiff' | 'avif';

/** A small solid-colour image with a bright square in its top-left quarter, so orientation is visible. */
export async function imageBuffer(
  format: ImageFormat = 'jpeg',
  options: { width?: number; height?: number; color?: string } = {},
): Promise<Buffer> {
  const width = options.width ?? 40;
  const height = options.height ?? 30;
  const marker = await sharp({ create: { width: Math.ceil(width / 2), height: Math.ceil(height / 2), channels: 3, background: '#ffffff' } })
    .png()
    .toBuffer();
  const base = sharp({ create: { width, height, channels: 3, background: options.color ?? '#3366cc' } }).composite([
    { input: marker, left: 0, top: 0 },
  ]);
  return base.toFormat(format).toBuffer();
}

export async function writeImage(path: string, format: ImageFormat = 'jpeg', options: { width?: number; height?: number; color?: string } = {}): Promise<string> {
  return write(path, await imageBuffer(format, options));
}

/** The captions every fixture uses: image name → captions. */
export const FIXTURE_CAPTIONS: Record<string, string[]> = {
  'dog.jpg': ['A dog runs on the grass.', 'A brown dog is running.'],
  'cat.jpg': ['A cat sleeps on a sofa.', "The cat's eyes are closed."],
  'bird.jpg': ['A bird sits on a branch, singing.'],
};

export async function writeFixtureImages(dir: string): Promise<void> {
  for (const name of Object.keys(FIXTURE_CAPTIONS)) await writeImage(join(dir, name));
}

const csvQuote = (text: string) => (/[",\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text);

/** Kaggle Flickr8k: captions.txt + Images/. The bird's comma-containing caption is left unquoted as Kaggle's file does. */
export async function writeFlickr8kCsv(root: string): Promise<string> {
  await writeFixtureImages(join(root, 'Images'));
  const rows = Object.entries(FIXTURE_CAPTIONS).flatMap(([image, captions]) => captions.map((caption) => `${image},${caption}`));
  return write(join(root, 'captions.txt'), ['image,caption', ...rows].join('\n') + '\n');
}

/** Original Flickr8k: Flickr8k_text/ with token and split files, Flicker8k_Dataset/ images. */
export async function writeFlickr8kToken(root: string): Promise<string> {
  await writeFixtureImages(join(root, 'Flicker8k_Dataset'));
  const lines = Object.entries(FIXTURE_CAPTIONS).flatMap(([image, captions]) => captions.map((caption, i) => `${image}#${i}\t${caption}`));
  const text = join(root, 'Flickr8k_text');
  write(join(text, 'Flickr_8k.trainImages.txt'), 'dog.jpg\n');
  write(join(text, 'Flickr_8k.devImages.txt'), 'cat.jpg\n');
  write(join(text, 'Flickr_8k.testImages.txt'), 'bird.jpg\n');
  return write(join(text, 'Flickr8k.token.txt'), lines.join('\n') + '\n');
}

export async function writeFlickr30kToken(root: string): Promise<string> {
  await writeFixtureImages(join(root, 'flickr30k_images'));
  const lines = Object.entries(FIXTURE_CAPTIONS).flatMap(([image, captions]) => captions.map((caption, i) => `${image}#${i}\t${caption}`));
  return write(join(root, 'results_20130124.token'), lines.join('\n') + '\n');
}

export async function writeFlickr30kPipeCsv(root: string): Promise<string> {
  await writeFixtureImages(join(root, 'flickr30k_images', 'flickr30k_images'));
  const lines = Object.entries(FIXTURE_CAPTIONS).flatMap(([image, captions]) => captions.map((caption, i) => `${image}| ${i}| ${caption}`));
  return write(join(root, 'results.csv'), ['image_name| comment_number| comment', ...lines].join('\n') + '\n');
}

/** COCO: annotations/captions_train2014.json and captions_val2014.json, images in train2014/ and val2014/. */
export async function writeCoco(root: string): Promise<string> {
  const entries = Object.entries(FIXTURE_CAPTIONS);
  const files: Record<string, { images: unknown[]; annotations: unknown[] }> = {
    train2014: { images: [], annotations: [] },
    val2014: { images: [], annotations: [] },
  };
  let annotationId = 1;
  for (const [index, [name, captions]] of entries.entries()) {
    const tag = index < 2 ? 'train2014' : 'val2014';
    const fileName = `COCO_${tag}_${String(index + 1).padStart(12, '0')}.jpg`;
    await writeImage(join(root, tag, fileName));
    const bucket = files[tag] as { images: unknown[]; annotations: unknown[] };
    bucket.images.push({ id: index + 1, file_name: fileName, width: 40, height: 30, original: name });
    for (const caption of captions) bucket.annotations.push({ id: annotationId++, image_id: index + 1, caption });
  }
  for (const [tag, body] of Object.entries(files)) {
    write(join(root, 'annotations', `captions_${tag}.json`), JSON.stringify({ info: {}, licenses: [], ...body }));
  }
  return join(root, 'annotations');
}

export async function writeKarpathy(root: string): Promise<string> {
  await writeFixtureImages(join(root, 'Images'));
  const splits = ['train', 'restval', 'test'];
  let sentid = 0;
  const images = Object.entries(FIXTURE_CAPTIONS).map(([filename, captions], imgid) => ({
    filename,
    imgid,
    split: splits[imgid],
    sentids: captions.map(() => sentid),
    sentences: captions.map((raw) => ({ raw, tokens: raw.toLowerCase().split(/\s+/), imgid, sentid: sentid++ })),
  }));
  return write(join(root, 'dataset_fixture.json'), JSON.stringify({ dataset: 'fixture', images }));
}

export async function writeGenericCsv(root: string): Promise<string> {
  await writeFixtureImages(join(root, 'images'));
  const rows = Object.entries(FIXTURE_CAPTIONS).flatMap(([image, captions]) => captions.map((caption) => `images/${image},${csvQuote(caption)}`));
  return write(join(root, 'data.csv'), ['file_name,text', ...rows].join('\n') + '\n');
}

export async function writeJsonl(root: string): Promise<string> {
  await writeFixtureImages(root);
  const lines = Object.entries(FIXTURE_CAPTIONS).map(([image, captions]) => JSON.stringify({ image, captions }));
  return write(join(root, 'captions.jsonl'), lines.join('\n') + '\n');
}

export async function writeSidecarFolder(root: string): Promise<string> {
  await writeFixtureImages(root);
  for (const [image, captions] of Object.entries(FIXTURE_CAPTIONS)) write(join(root, image.replace(/\.jpg$/, '.txt')), captions.join('\n') + '\n');
  return root;
}
