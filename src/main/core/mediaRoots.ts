/**
 * The folders the user pointed the workbench at. Local images are served to
 * the renderer only from inside these roots, after resolving symlinks, so a
 * crafted path cannot read anything else on disk.
 */
import { realpathSync } from 'node:fs';
import { isAbsolute, relative, resolve } from 'node:path';

export class MediaRoots {
  private readonly roots = new Set<string>();

  add(path: string): void {
    this.roots.add(canonical(path));
  }

  /** The canonical path if it lies under an opened root, else null. */
  resolve(path: string): string | null {
    if (!isAbsolute(path)) return null;
    let target: string;
    try {
      target = realpathSync(path);
    } catch {
      return null;
    }
    for (const root of this.roots) {
      const rel = relative(root, target);
      if (rel === '' || (!rel.startsWith('..') && !isAbsolute(rel))) return target;
    }
    return null;
  }
}

function canonical(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return resolve(path);
  }
}
