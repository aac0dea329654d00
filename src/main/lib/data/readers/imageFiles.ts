/**
 * Cheap checks that an image file is there and looks like an image, run for
 * every image when a dataset is read: a stat and the first bytes, never a
 * full decode (that happens, with its own error per item, when pixels are
 * needed).
 */
import { open, readdir, stat } from 'node:fs/promises';
import { dirname, extname, join } from 'node:path';

export const IMAGE_EXTENSIONS = new Set(['.jpg', '.jpeg', '.png', '.webp', '.gif', '.tif', '.tiff', '.avif', '.heic', '.heif', '.bmp']);

export function isImageName(name: string): boolean {
  return IMAGE_EXTENSIONS.has(extname(name).toLowerCase());
}

export type ImageFileCheck = { ok: true } | { ok: false; kind: 'missing-image' | 'unreadable-image'; reason: string };

/** Formats recognised by their first bytes; anything else is unreadable. */
function sniff(header: Buffer): string | null {
  if (header.length >= 3 && header[0] === 0xff && header[1] === 0xd8 && header[2] === 0xff) return 'jpeg';
  if (header.length >= 8 && header.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))) return 'png';
  if (header.length >= 6 && (header.toString('latin1', 0, 6) === 'GIF87a' || header.toString('latin1', 0, 6) === 'GIF89a')) return 'gif';
  if (header.length >= 12 && header.toString('latin1', 0, 4) === 'RIFF' && header.toString('latin1', 8, 12) === 'WEBP') return 'webp';
  if (header.length >= 4 && (header.toString('latin1', 0, 4) === 'II*\0' || header.toString('latin1', 0, 4) === 'MM\0*')) return 'tiff';
  if (header.length >= 12 && header.toString('latin1', 4, 8) === 'ftyp') return 'heif';
  if (header.length >= 2 && header.toString('latin1', 0, 2) === 'BM') return 'bmp';
  return null;
}

export async function checkImageFile(file: string): Promise<ImageFileCheck> {
  let size: number;
  try {
    const info = await stat(file);
    if (!info.isFile()) return { ok: false, kind: 'missing-image', reason: 'not a file' };
    size = info.size;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return { ok: false, kind: 'missing-image', reason: 'file not found' };
    return { ok: false, kind: 'unreadable-image', reason: (error as Error).message };
  }
  if (size === 0) return { ok: false, kind: 'unreadable-image', reason: 'empty file' };
  try {
    const handle = await open(file, 'r');
    try {
      const header = Buffer.alloc(16);
      const { bytesRead } = await handle.read(header, 0, 16, 0);
      if (!sniff(header.subarray(0, bytesRead))) return { ok: false, kind: 'unreadable-image', reason: 'not a supported image format' };
    } finally {
      await handle.close();
    }
  } catch (error) {
    return { ok: false, kind: 'unreadable-image', reason: (error as Error).message };
  }
  return { ok: true };
}

/** Maps with at most `concurrency` promises in flight, keeping the order of the results. */
export async function mapConcurrent<T, R>(items: readonly T[], concurrency: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await fn(items[index] as T, index);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, items.length)) }, worker));
  return results;
}

/** Image files under `dir`, as paths relative to it with `/` separators, sorted; hidden entries skipped. */
export async function listImagesRecursive(dir: string, maxDepth = 8): Promise<string[]> {
  const out: string[] = [];
  const walk = async (relative: string, depth: number) => {
    const entries = await readdir(join(dir, relative), { withFileTypes: true });
    for (const entry of entries) {
      if (entry.name.startsWith('.')) continue;
      const rel = relative ? `${relative}/${entry.name}` : entry.name;
      if (entry.isDirectory() && depth < maxDepth) await walk(rel, depth + 1);
      else if (entry.isFile() && isImageName(entry.name)) out.push(rel);
    }
  };
  await walk('', 0);
  return out.sort();
}

/** Where a plain annotation file's relative image paths usually point: beside it, an images folder, or its parent. */
export function imageDirsNear(file: string): string[] {
  const dir = dirname(file);
  return [dir, join(dir, 'images'), join(dir, 'Images'), dirname(dir)];
}
