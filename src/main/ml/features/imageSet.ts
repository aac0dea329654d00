/**
 * An image set is what a cache is computed from: a name (usually the
 * dataset) and the images in a fixed order. Its fingerprint covers each
 * image's id, path, size and modification time, so replacing, editing or
 * adding an image makes every cache built from the set stale.
 */
import { createHash } from 'node:crypto';
import { stat } from 'node:fs/promises';
import { mapConcurrent } from '../../lib/data/readers/imageFiles';

export interface ImageRef {
  id: string;
  file: string;
}

export interface ImageSet {
  /** Stable name, e.g. the dataset's path or id; part of the cache folder name. */
  name: string;
  images: readonly ImageRef[];
}

export async function imageSetFingerprint(set: ImageSet): Promise<string> {
  const stats = await mapConcurrent(set.images, 32, async (image) => {
    try {
      const info = await stat(image.file);
      return `${info.size}:${Math.round(info.mtimeMs)}`;
    } catch {
      return 'missing';
    }
  });
  const hash = createHash('sha256');
  set.images.forEach((image, i) => hash.update(`${image.id}\0${image.file}\0${stats[i]}\n`));
  return hash.digest('hex');
}

export function shortHash(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 16);
}

/** A folder-name-safe version of a name, for humans browsing the cache folder. */
export function slug(text: string): string {
  return text.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^-+|-+$/g, '').slice(-48) || 'set';
}
