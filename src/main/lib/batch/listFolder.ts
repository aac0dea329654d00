/**
 * Lists a folder for batch captioning lazily: one directory is read at a
 * time and its entries are yielded in a stable order (names sorted), so a
 * folder of 100,000 images never sits in memory as a list and a resumed job
 * meets the images in the same order. Files that are not images sharp reads
 * are yielded as `ignored` so they can be counted; files the globs leave out
 * as `excluded`. A folder that cannot be read is reported, never fatal.
 */
import { readdir } from 'node:fs/promises';
import { extname, join, relative, sep } from 'node:path';
import { pathFilter } from './glob';

/** Extensions of the formats batch captioning decodes (sharp's prebuilt formats). */
export const IMAGE_EXTENSIONS: ReadonlySet<string> = new Set([
  '.jpg',
  '.jpeg',
  '.jpe',
  '.jfif',
  '.png',
  '.webp',
  '.gif',
  '.tif',
  '.tiff',
  '.avif',
  '.svg',
]);

export function isImageFile(path: string): boolean {
  return IMAGE_EXTENSIONS.has(extname(path).toLowerCase());
}

export interface FolderSelection {
  /** Absolute folder path. */
  folder: string;
  recursive: boolean;
  include: readonly string[];
  exclude: readonly string[];
}

export type ListedEntry =
  | { kind: 'image'; path: string; relativePath: string }
  | { kind: 'ignored'; path: string; relativePath: string }
  | { kind: 'excluded'; path: string; relativePath: string }
  | { kind: 'unreadable'; path: string; relativePath: string; reason: string };

/** The path relative to the folder, with `/` on every platform (what globs and outputs use). */
export function relativeImagePath(folder: string, path: string): string {
  return relative(folder, path).split(sep).join('/');
}

export async function* listFolder(selection: FolderSelection, signal?: AbortSignal): AsyncGenerator<ListedEntry> {
  const selected = pathFilter(selection.include, selection.exclude);
  // Depth-first with an explicit stack of folders still to read, so memory
  // holds one folder's names at a time plus the folders waiting.
  const pending: string[] = [selection.folder];
  while (pending.length > 0) {
    if (signal?.aborted) return;
    const dir = pending.pop()!;
    let names: { name: string; isDir: boolean; isFile: boolean }[];
    try {
      // One scandir for the whole folder (the names are sorted, so all are read anyway): a single trip
      // to libuv's thread pool, which is busy decoding images while a job runs.
      names = (await readdir(dir, { withFileTypes: true })).map((entry) => ({ name: entry.name, isDir: entry.isDirectory(), isFile: entry.isFile() || entry.isSymbolicLink() }));
    } catch (error) {
      if (dir === selection.folder) throw new Error(`Cannot read the folder ${dir}: ${(error as Error).message}`);
      yield { kind: 'unreadable', path: dir, relativePath: relativeImagePath(selection.folder, dir), reason: (error as Error).message };
      continue;
    }
    names.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    const subfolders: string[] = [];
    for (const entry of names) {
      // Hidden entries (dot files, our own temporary files) are neither images nor worth counting.
      if (entry.name.startsWith('.')) continue;
      const path = join(dir, entry.name);
      if (entry.isDir) {
        if (selection.recursive) subfolders.push(path);
        continue;
      }
      if (!entry.isFile) continue;
      const relativePath = relativeImagePath(selection.folder, path);
      if (!isImageFile(path)) yield { kind: 'ignored', path, relativePath };
      else if (!selected(relativePath)) yield { kind: 'excluded', path, relativePath };
      else yield { kind: 'image', path, relativePath };
    }
    // Reversed onto the stack so subfolders are visited in name order.
    for (let i = subfolders.length - 1; i >= 0; i -= 1) pending.push(subfolders[i]!);
  }
}

/** Counts the images a selection holds without keeping their names (for progress totals). */
export async function countImages(selection: FolderSelection, signal?: AbortSignal): Promise<number> {
  let count = 0;
  for await (const entry of listFolder(selection, signal)) if (entry.kind === 'image') count += 1;
  return count;
}
