/**
 * Caption files next to images (`photo.jpg` → `photo.txt`), written
 * atomically. What happens to a caption file that is already there is the
 * user's choice and nothing else: `skip` leaves it (and its image) alone,
 * `overwrite` replaces it, `append` adds the new caption on a line of its
 * own. Writing the same caption again is a no-op, so a job resumed after a
 * crash between writing a file and recording it never appends twice.
 */
import { existsSync, readFileSync } from 'node:fs';
import { extname } from 'node:path';
import type { ExistingPolicy, SidecarOptions } from '../../../shared/batchTypes';
import { writeFileAtomic } from './atomicWrite';

export const DEFAULT_SIDECAR: SidecarOptions = { ext: '.txt', prefix: '', suffix: '', existing: 'skip' };

/** `.txt`, `txt` and `.caption` are all fine; a path separator or an empty extension is not. */
export function normalizeSidecarExt(ext: string): string {
  const withDot = ext.startsWith('.') ? ext : `.${ext}`;
  if (withDot.length < 2 || /[\\/\0]/.test(withDot)) throw new Error(`Sidecar extension "${ext}" must be a file extension such as .txt.`);
  return withDot;
}

export function sidecarPath(imagePath: string, ext: string): string {
  const imageExt = extname(imagePath);
  return `${imageExt ? imagePath.slice(0, -imageExt.length) : imagePath}${normalizeSidecarExt(ext)}`;
}

export function sidecarText(caption: string, options: Pick<SidecarOptions, 'prefix' | 'suffix'>): string {
  return `${options.prefix}${caption}${options.suffix}`;
}

/** Whether the `skip` policy leaves this image out because its caption file exists. */
export function skippedForExisting(imagePath: string, options: Pick<SidecarOptions, 'ext' | 'existing'>): boolean {
  return options.existing === 'skip' && existsSync(sidecarPath(imagePath, options.ext));
}

export type SidecarWrite = 'created' | 'overwritten' | 'appended' | 'unchanged' | 'kept-existing';

/**
 * Writes `caption` into the image's caption file under the policy.
 * `previous` is the caption this job wrote there before (a review replacing
 * the model's caption): the job's own text is replaced in place, whatever
 * the policy, and anything else in the file stays.
 */
export function writeSidecar(imagePath: string, caption: string, options: SidecarOptions, previous: string | null = null): SidecarWrite {
  const target = sidecarPath(imagePath, options.ext);
  const text = sidecarText(caption, options);
  const existing = existsSync(target) ? readFileSync(target, 'utf8') : null;
  if (existing === null) {
    writeFileAtomic(target, text);
    return 'created';
  }
  if (previous !== null && previous !== caption) {
    const old = sidecarText(previous, options);
    if (existing === old) {
      writeFileAtomic(target, text);
      return 'overwritten';
    }
    const lines = existing.split('\n');
    const at = lines.lastIndexOf(old);
    if (at >= 0) {
      lines[at] = text;
      writeFileAtomic(target, lines.join('\n'));
      return 'overwritten';
    }
  }
  switch (options.existing) {
    case 'skip':
      return existing === text ? 'unchanged' : 'kept-existing';
    case 'overwrite':
      if (existing === text) return 'unchanged';
      writeFileAtomic(target, text);
      return 'overwritten';
    case 'append': {
      const lines = existing.split(/\r?\n/);
      if (lines.includes(text)) return 'unchanged';
      writeFileAtomic(target, existing === '' ? text : `${existing}${existing.endsWith('\n') ? '' : '\n'}${text}`);
      return 'appended';
    }
  }
}

export function isExistingPolicy(value: string): value is ExistingPolicy {
  return value === 'skip' || value === 'overwrite' || value === 'append';
}
