/**
 * The part every reader shares: a reader turns its file into annotations
 * (image names, captions, splits, with where each came from); `assembleDataset`
 * finds the image folder, checks every image, and reports missing and
 * unreadable images, images without captions, empty, overlong and duplicate
 * captions.
 */
import { existsSync, statSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { mapYielding } from '../yielding';
import { checkImageFile, mapConcurrent } from './imageFiles';
import { ProblemLog } from './problems';
import type { CaptionDataset, DatasetFormat, DatasetImage, SplitName } from './types';

export interface AnnotatedCaption {
  text: string;
  line?: number;
  jsonPath?: string;
}

export interface AnnotatedImage {
  /** Path relative to the image root, `/`-separated (e.g. `val2014/COCO_val2014_000000000042.jpg`). */
  name: string;
  captions: AnnotatedCaption[];
  split: SplitName | null;
  file: string;
  line?: number;
  jsonPath?: string;
}

export interface Annotations {
  format: DatasetFormat;
  source: string;
  /** Images in source order, keyed by name. */
  images: Map<string, AnnotatedImage>;
  hasSplits: boolean;
  /** Folders that may hold the images, most likely first. */
  imageDirCandidates: string[];
  /** Problems the reader found itself (e.g. captions for unknown image ids). */
  problems: ProblemLog;
}

export interface ReadOptions {
  /** The image folder, when it is not where the format's convention puts it. */
  imagesDir?: string;
  /** `header` (default) stats each image and reads its first bytes; `none` trusts the annotations. */
  checkImages?: 'header' | 'none';
}

/** Adds an image's caption, creating the image on first sight. */
export function addCaption(
  images: Map<string, AnnotatedImage>,
  name: string,
  caption: AnnotatedCaption,
  where: { file: string; line?: number; jsonPath?: string; split?: SplitName | null },
): void {
  let image = images.get(name);
  if (!image) {
    image = { name, captions: [], split: where.split ?? null, file: where.file, line: where.line, jsonPath: where.jsonPath };
    images.set(name, image);
  }
  image.captions.push(caption);
}

const SAMPLE = 25;

/**
 * Longest caption kept, in characters. Real captions are a sentence or two
 * (COCO's longest is under 1,000); anything longer is a broken file (a
 * missing line break, a pasted document) and would cost time and memory in
 * every later step, so it is reported and skipped.
 */
export const MAX_CAPTION_CHARS = 2000;

/** The candidate folder holding most of a sample of the images; null when none holds any. */
export function chooseImageRoot(candidates: readonly string[], names: readonly string[]): string | null {
  const sample = names.slice(0, SAMPLE);
  let best: string | null = null;
  let bestHits = 0;
  for (const dir of candidates) {
    if (!isDirectory(dir)) continue;
    const hits = sample.filter((name) => existsSync(join(dir, name))).length;
    if (hits > bestHits) {
      best = dir;
      bestHits = hits;
    }
  }
  return best;
}

/**
 * What makes two captions duplicates: the same words ignoring case,
 * punctuation and spacing. Cheaper than full tokenization, which matters
 * for 600k COCO captions read in the main process.
 */
export function captionKey(text: string): string {
  return text.normalize('NFKC').toLowerCase().replace(/[^\p{L}\p{N}]+/gu, ' ').trim();
}

/** Relative names are ids as they are; absolute ones become relative to the root when under it. */
function imageId(root: string, name: string): string {
  if (!isAbsolute(name)) return name;
  const rel = relative(root, name);
  return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel.split(sep).join('/') : name;
}

/** The deepest folder containing every path. */
function commonFolder(paths: readonly string[]): string {
  let common = dirname(paths[0] as string);
  for (const path of paths) {
    while (relative(common, path).startsWith('..')) common = dirname(common);
  }
  return common;
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

export async function assembleDataset(annotations: Annotations, options: ReadOptions = {}): Promise<CaptionDataset> {
  const problems = annotations.problems;
  const entries = [...annotations.images.values()];
  const names = entries.map((entry) => entry.name);
  const candidates = options.imagesDir ? [resolve(options.imagesDir)] : annotations.imageDirCandidates;
  const allAbsolute = names.length > 0 && names.every((name) => isAbsolute(name));
  let imageRoot = allAbsolute ? commonFolder(names) : chooseImageRoot(candidates, names.filter((name) => !isAbsolute(name)));
  if (!imageRoot) {
    imageRoot = candidates[0] ?? annotations.source;
    if (entries.length > 0) {
      problems.add({
        kind: 'image-folder-not-found',
        message: `None of the images were found. Looked in: ${candidates.join(', ')}. Pass the image folder explicitly (imagesDir / --images).`,
        file: annotations.source,
      });
    }
  }

  const checks = await mapConcurrent(entries, 16, async (entry) => {
    const file = isAbsolute(entry.name) ? entry.name : join(imageRoot, entry.name);
    return { file, check: options.checkImages === 'none' ? ({ ok: true } as const) : await checkImageFile(file) };
  });

  const images: DatasetImage[] = [];
  await mapYielding(entries, (entry, index) => {
    const { file, check } = checks[index] as (typeof checks)[number];
    const where = { file: entry.file, line: entry.line, jsonPath: entry.jsonPath };
    if (!check.ok) {
      problems.add({ kind: check.kind, message: `${entry.name}: ${check.reason} (${file}); skipped.`, image: entry.name, ...where });
      return;
    }
    const captions: string[] = [];
    const seen = new Set<string>();
    for (const caption of entry.captions) {
      const captionWhere = { file: entry.file, line: caption.line ?? entry.line, jsonPath: caption.jsonPath ?? entry.jsonPath };
      if (caption.text.length > MAX_CAPTION_CHARS) {
        problems.add({
          kind: 'caption-too-long',
          message: `${entry.name}: a caption is ${caption.text.length.toLocaleString('en-US')} characters long (the limit is ${MAX_CAPTION_CHARS.toLocaleString('en-US')}); skipped.`,
          image: entry.name,
          ...captionWhere,
        });
        continue;
      }
      const canonical = captionKey(caption.text);
      if (canonical === '') {
        problems.add({ kind: 'empty-caption', message: `${entry.name}: a caption has no words; skipped.`, image: entry.name, ...captionWhere });
        continue;
      }
      if (seen.has(canonical)) {
        problems.add({ kind: 'duplicate-caption', message: `${entry.name}: caption "${caption.text.trim()}" appears twice.`, image: entry.name, ...captionWhere });
      }
      seen.add(canonical);
      captions.push(caption.text.trim());
    }
    if (captions.length === 0) problems.add({ kind: 'no-caption', message: `${entry.name} has no caption.`, image: entry.name, ...where });
    images.push({ id: imageId(imageRoot, entry.name), file, captions, split: entry.split });
  });

  return {
    format: annotations.format,
    source: annotations.source,
    imageRoot,
    images,
    hasSplits: annotations.hasSplits,
    problems: problems.report(),
  };
}
