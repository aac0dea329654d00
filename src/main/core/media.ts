/**
 * Reads a local image for the renderer (Electron's `media:` protocol and the
 * serve-mode `/media` route): only under an opened root, optionally as a
 * cached thumbnail made with sharp.
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { extname, join } from 'node:path';
import sharp from 'sharp';
import type { MediaRoots } from './mediaRoots';

const CONTENT_TYPES: Record<string, string> = {
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.png': 'image/png',
  '.webp': 'image/webp',
  '.gif': 'image/gif',
  '.avif': 'image/avif',
  '.tif': 'image/tiff',
  '.tiff': 'image/tiff',
  '.bmp': 'image/bmp',
  '.svg': 'image/svg+xml',
};

export type MediaResult =
  | { ok: true; body: Buffer; contentType: string }
  | { ok: false; status: 403 | 404 | 415 | 500; message: string };

/** Thumbnail edge lengths the UI may ask for; others are refused to bound the cache. */
export const THUMB_SIZES = [64, 128, 192, 256, 384, 512] as const;

export async function readMedia(
  roots: MediaRoots,
  cacheDir: string,
  path: string,
  thumb: number | null,
): Promise<MediaResult> {
  const resolved = roots.resolve(path);
  if (!resolved) return { ok: false, status: 403, message: 'That file is not inside a folder opened in the workbench.' };
  const type = CONTENT_TYPES[extname(resolved).toLowerCase()];
  if (!type) return { ok: false, status: 415, message: 'Not an image file.' };
  try {
    if (thumb === null) return { ok: true, body: await readFile(resolved), contentType: type };
    if (!(THUMB_SIZES as readonly number[]).includes(thumb)) {
      return { ok: false, status: 415, message: `Thumbnail size must be one of ${THUMB_SIZES.join(', ')}.` };
    }
    return { ok: true, body: await thumbnail(resolved, cacheDir, thumb), contentType: 'image/webp' };
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return { ok: false, status: 404, message: 'File not found.' };
    return { ok: false, status: 500, message: `Could not read image: ${(error as Error).message}` };
  }
}

async function thumbnail(path: string, cacheDir: string, size: number): Promise<Buffer> {
  const info = await stat(path);
  const key = createHash('sha1').update(`${path}\0${info.size}\0${info.mtimeMs}\0${size}`).digest('hex');
  const file = join(cacheDir, key.slice(0, 2), `${key}.webp`);
  try {
    return await readFile(file);
  } catch {
    // Not cached yet.
  }
  const body = await sharp(path, { limitInputPixels: 100_000_000, animated: false })
    .rotate()
    .resize(size, size, { fit: 'cover' })
    .webp({ quality: 80 })
    .toBuffer();
  await mkdir(join(cacheDir, key.slice(0, 2)), { recursive: true });
  await writeFile(file, body);
  return body;
}
