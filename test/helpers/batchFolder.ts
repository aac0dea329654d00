/**
 * A folder tree for batch captioning tests: every image type batch jobs read
 * (JPEG, PNG, WebP, GIF, TIFF, AVIF, SVG, 16-bit, grayscale, CMYK, alpha,
 * EXIF rotation), corrupt images, files that are not images, names with
 * spaces and Unicode, nested folders, and existing caption files.
 */
import { join } from 'node:path';
import sharp from 'sharp';
import { imageBuffer, write } from './datasetFixtures';

export interface BatchFolder {
  root: string;
  /** Relative paths (with `/`) of the images that decode. */
  readable: string[];
  /** Relative paths of images that cannot be decoded. */
  corrupt: string[];
  /** Relative paths of files that are not images. */
  notImages: string[];
  /** Relative paths of images that already have a `.txt` caption file, and its text. */
  existingSidecars: Record<string, string>;
}

const SVG = `<svg xmlns="http://www.w3.org/2000/svg" width="40" height="30"><rect width="40" height="30" fill="#2a6"/><circle cx="10" cy="10" r="6" fill="#fff"/></svg>`;

export async function writeBatchFolder(root: string): Promise<BatchFolder> {
  const small = { width: 24, height: 18 };
  const files: Record<string, Buffer | string> = {
    'a.jpg': await imageBuffer('jpeg', small),
    'b.png': await imageBuffer('png', small),
    'c.webp': await imageBuffer('webp', small),
    'd.gif': await imageBuffer('gif', small),
    'e.tiff': await imageBuffer('tiff', small),
    'f.avif': await imageBuffer('avif', small),
    'g.svg': SVG,
    'photo with spaces.jpg': await imageBuffer('jpeg', { ...small, color: '#aa3322' }),
    'café 日本.png': await imageBuffer('png', { ...small, color: '#22aa33' }),
    'nested/h16.png': await sharp({ create: { width: 20, height: 16, channels: 3, background: '#345678' } }).png().toColourspace('rgb16').toBuffer(),
    'nested/gray.jpg': await sharp({ create: { width: 20, height: 16, channels: 3, background: '#777777' } }).grayscale().jpeg().toBuffer(),
    'nested/cmyk.jpg': await sharp({ create: { width: 20, height: 16, channels: 3, background: '#cc4411' } }).toColourspace('cmyk').jpeg().toBuffer(),
    'nested/alpha.png': await sharp({ create: { width: 20, height: 16, channels: 4, background: { r: 10, g: 20, b: 200, alpha: 0.5 } } }).png().toBuffer(),
    'nested/deeper/rotated.jpg': await sharp(await imageBuffer('jpeg', small)).withMetadata({ orientation: 6 }).jpeg().toBuffer(),
    'nested/deeper/multi.tif': await imageBuffer('tiff', small),
  };
  const corruptJpeg = (await imageBuffer('jpeg', { width: 64, height: 48 })).subarray(0, 120);
  const corrupt: Record<string, Buffer | string> = {
    'broken.jpg': corruptJpeg,
    'nested/text-pretending.png': 'this is not a png',
  };
  const notImages: Record<string, string> = {
    'notes.md': '# notes\n',
    'nested/data.bin': 'binary-ish',
  };
  const existingSidecars: Record<string, string> = {
    'b.png': 'a caption someone wrote',
    'nested/gray.jpg': 'hand-written gray caption',
  };
  for (const [name, content] of [...Object.entries(files), ...Object.entries(corrupt), ...Object.entries(notImages)]) write(join(root, name), content);
  for (const [image, text] of Object.entries(existingSidecars)) write(join(root, image.replace(/\.[^.]+$/, '.txt')), text);
  return {
    root,
    readable: Object.keys(files).sort(),
    corrupt: Object.keys(corrupt).sort(),
    notImages: Object.keys(notImages).sort(),
    existingSidecars,
  };
}
