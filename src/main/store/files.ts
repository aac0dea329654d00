/**
 * Files that belong to runs: checkpoints and artifacts live under the data
 * directory (usually `runs/<id>/`), are recorded with paths relative to it,
 * and are removed with their run. Paths outside the data directory are
 * refused, so deleting a run can never delete a user's own files.
 */
import { existsSync, lstatSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import { ApiError } from '../../shared/errors';

export class RunFiles {
  constructor(readonly dataDir: string) {}

  /** `<dataDir>/runs/<id>`, created if needed. */
  runDirectory(runId: number): string {
    const dir = join(this.dataDir, 'runs', String(runId));
    mkdirSync(dir, { recursive: true });
    return dir;
  }

  /** The path as stored: relative to the data directory, with `/` separators. */
  toStored(path: string, field = 'path'): string {
    const absolute = isAbsolute(path) ? resolve(path) : resolve(this.dataDir, path);
    const rel = relative(this.dataDir, absolute);
    if (rel === '' || rel.startsWith('..') || isAbsolute(rel)) {
      throw new ApiError('invalid_request', `${field} ${path} is not inside the data directory ${this.dataDir}.`, [
        { path: field, message: 'must lie under the data directory' },
      ]);
    }
    return rel.split(sep).join('/');
  }

  toAbsolute(stored: string): string {
    return join(this.dataDir, ...stored.split('/'));
  }

  /** Bytes in a file or a folder (recursively); 0 when it does not exist (yet). */
  sizeOf(path: string): number {
    if (!existsSync(path)) return 0;
    const stat = lstatSync(path);
    if (!stat.isDirectory()) return stat.size;
    let total = 0;
    for (const entry of readdirSync(path)) total += this.sizeOf(join(path, entry));
    return total;
  }

  /**
   * Removes stored paths and the run's folder. Answers how many existed and
   * were removed, and the paths that could not be (a permission problem
   * must not undo a delete that is already committed).
   */
  removeRun(runId: number, storedPaths: readonly string[]): { removed: number; failed: string[] } {
    let removed = 0;
    const failed: string[] = [];
    const attempt = (path: string, count: () => number) => {
      try {
        if (!existsSync(path)) return;
        const files = count();
        rmSync(path, { recursive: true, force: true });
        removed += files;
      } catch {
        failed.push(path);
      }
    };
    const runDir = join(this.dataDir, 'runs', String(runId));
    for (const stored of storedPaths) {
      const absolute = this.toAbsolute(stored);
      // Inside the run folder it goes with the folder below; count it once.
      if (!absolute.startsWith(runDir + sep)) attempt(absolute, () => 1);
    }
    attempt(runDir, () => countFiles(runDir));
    return { removed, failed };
  }

  /** Removes one file or folder given by its stored path. */
  removeStored(stored: string): boolean {
    const absolute = this.toAbsolute(stored);
    if (!existsSync(absolute)) return false;
    rmSync(absolute, { recursive: true, force: true });
    return true;
  }
}

/** Files (not folders) under `dir`, to report what a delete removed. */
function countFiles(dir: string): number {
  let count = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    count += entry.isDirectory() ? countFiles(join(dir, entry.name)) : 1;
  }
  return count;
}
