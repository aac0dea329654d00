/**
 * Images given to the playground as bytes: checked to be an image format the
 * decoder reads (by its leading bytes, not its name), then stored under
 * `<data dir>/uploads/` by content hash, so the same image uploaded twice is
 * one file and any stored path names exactly the bytes it holds. The data
 * directory is a media root, so the UI shows the file at once.
 */
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ApiError } from '../../shared/errors';
import { MAX_UPLOAD_BYTES, type UploadedImage } from '../../shared/contract/playground';

export const uploadsDir = (dataDir: string): string => join(dataDir, 'uploads');

const ascii = (bytes: Uint8Array, from: number, to: number) => String.fromCharCode(...bytes.subarray(from, to));

/** The image format of a file's leading bytes, or null for anything else. */
export function sniffImageFormat(bytes: Uint8Array): { format: string; extension: string } | null {
  if (bytes.length >= 8 && bytes[0] === 0x89 && ascii(bytes, 1, 4) === 'PNG') return { format: 'png', extension: 'png' };
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return { format: 'jpeg', extension: 'jpg' };
  if (bytes.length >= 6 && /^GIF8[79]a$/.test(ascii(bytes, 0, 6))) return { format: 'gif', extension: 'gif' };
  if (bytes.length >= 12 && ascii(bytes, 0, 4) === 'RIFF' && ascii(bytes, 8, 12) === 'WEBP') return { format: 'webp', extension: 'webp' };
  if (bytes.length >= 4 && (ascii(bytes, 0, 4) === 'II*\0' || ascii(bytes, 0, 4) === 'MM\0*')) return { format: 'tiff', extension: 'tif' };
  if (bytes.length >= 12 && ascii(bytes, 4, 8) === 'ftyp' && /^avi[fs]$/.test(ascii(bytes, 8, 12))) return { format: 'avif', extension: 'avif' };
  return null;
}

export function storeUpload(dataDir: string, name: string, base64: string): UploadedImage {
  const bytes = Buffer.from(base64, 'base64');
  if (bytes.length === 0) throw new ApiError('invalid_request', `${name}: the file is empty.`, [{ path: 'data', message: 'empty' }]);
  if (bytes.length > MAX_UPLOAD_BYTES) {
    throw new ApiError('invalid_request', `${name}: ${bytes.length} bytes is more than the ${MAX_UPLOAD_BYTES} the playground takes.`, [{ path: 'data', message: 'too large' }]);
  }
  const sniffed = sniffImageFormat(bytes);
  if (!sniffed) {
    throw new ApiError('invalid_request', `${name}: not an image the workbench reads (PNG, JPEG, WebP, GIF, TIFF or AVIF).`, [{ path: 'data', message: 'not an image' }]);
  }
  const dir = uploadsDir(dataDir);
  mkdirSync(dir, { recursive: true });
  const hash = createHash('sha256').update(bytes).digest('hex').slice(0, 32);
  const path = join(dir, `${hash}.${sniffed.extension}`);
  const existed = existsSync(path);
  if (!existed) {
    // Written aside and renamed, so a half-written file never carries a final name.
    const temp = `${path}.tmp-${randomBytes(4).toString('hex')}`;
    writeFileSync(temp, bytes);
    renameSync(temp, path);
  }
  return { path, name, format: sniffed.format, bytes: bytes.length, existed };
}
