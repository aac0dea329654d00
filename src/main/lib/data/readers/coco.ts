/**
 * COCO captions JSON (`annotations/captions_train2014.json`): `images` with
 * `id` and `file_name`, `annotations` with `image_id` and `caption`. Given
 * the COCO folder, every `captions_*.json` is read, and the file names give
 * the splits (train2014 → train, val2014 → val); a single file has no
 * splits of its own. Images live in `<root>/<train2014|val2014>/`.
 */
import { readdir } from 'node:fs/promises';
import { basename, dirname, extname, join } from 'node:path';
import { addCaption, type AnnotatedImage, type Annotations } from './assemble';
import { ProblemLog } from './problems';
import { isDir, isFile, readHead, type DatasetReader } from './reader';
import { jsonPath, preview, readJson } from './textFile';
import { DatasetFormatError, type SplitName } from './types';

const CAPTION_FILE = /^captions_(.+)\.json$/i;

export const cocoReader: DatasetReader = {
  format: 'coco',
  description: 'COCO captions: annotations/captions_<split>.json (images + annotations), images in <split>/ beside annotations/',
  async locate(path) {
    if (await isDir(path)) {
      for (const dir of [join(path, 'annotations'), path]) {
        if ((await captionFiles(dir)).length > 0) return dir;
      }
      return null;
    }
    if (extname(path).toLowerCase() !== '.json') return null;
    const head = await readHead(path);
    return !head.includes('"sentences"') && /"(annotations|file_name|coco_url)"/.test(head) ? path : null;
  },
  async read(source) {
    const files = (await isFile(source)) ? [source] : await captionFiles(source);
    const problems = new ProblemLog();
    const images = new Map<string, AnnotatedImage>();
    const splitOf = (file: string) => (files.length > 1 ? splitFromName(basename(file)) : null);
    const annotationsDir = (await isFile(source)) ? dirname(source) : source;
    const root = basename(annotationsDir).toLowerCase() === 'annotations' ? dirname(annotationsDir) : annotationsDir;
    for (const file of files) await readCocoFile(file, root, splitOf(file), images, problems);
    const hasSplits = files.length > 1 && files.every((file) => splitFromName(basename(file)) !== null);
    return {
      format: 'coco',
      source,
      images,
      hasSplits,
      imageDirCandidates: [root, join(root, 'images'), annotationsDir],
      problems,
    } satisfies Annotations;
  },
};

async function captionFiles(dir: string): Promise<string[]> {
  if (!(await isDir(dir))) return [];
  return (await readdir(dir)).filter((name) => CAPTION_FILE.test(name)).sort().map((name) => join(dir, name));
}

function splitFromName(name: string): SplitName | null {
  const tag = CAPTION_FILE.exec(name)?.[1]?.toLowerCase() ?? '';
  if (tag.startsWith('train')) return 'train';
  if (tag.startsWith('val')) return 'val';
  if (tag.startsWith('test')) return 'test';
  return null;
}

/** The folder the images of `captions_train2014.json` live in (`train2014`), when it exists under the root. */
async function imageFolder(file: string, root: string): Promise<string | null> {
  const tag = CAPTION_FILE.exec(basename(file))?.[1];
  if (!tag) return null;
  if (await isDir(join(root, tag))) return tag;
  if (await isDir(join(root, 'images', tag))) return tag;
  return null;
}

async function readCocoFile(
  file: string,
  root: string,
  split: SplitName | null,
  images: Map<string, AnnotatedImage>,
  problems: ProblemLog,
): Promise<void> {
  const json = await readJson(file);
  const fail = (path: string, message: string): never => {
    throw new DatasetFormatError(file, { jsonPath: path }, message);
  };
  if (typeof json !== 'object' || json === null || Array.isArray(json)) return fail('$', 'expected an object with "images" and "annotations"');
  const { images: imageList, annotations } = json as { images?: unknown; annotations?: unknown };
  if (!Array.isArray(imageList)) return fail('$.images', 'expected an array');
  if (!Array.isArray(annotations)) return fail('$.annotations', 'expected an array');
  const folder = await imageFolder(file, root);
  // Keyed by type and value: an image_id "0" (a string) is not image 0.
  const key = (id: number | string) => `${typeof id}:${id}`;
  const nameById = new Map<string, string>();
  let idType: 'number' | 'string' | null = null;
  imageList.forEach((entry: unknown, i) => {
    const path = jsonPath('images', i);
    if (typeof entry !== 'object' || entry === null) return fail(path, 'expected an object');
    const { id, file_name: fileName } = entry as { id?: unknown; file_name?: unknown };
    if (!(typeof id === 'number' && Number.isSafeInteger(id)) && !(typeof id === 'string' && id !== '')) {
      return fail(`${path}.id`, `expected an integer (or a non-empty string), got ${preview(id)}`);
    }
    idType ??= typeof id === 'number' ? 'number' : 'string';
    if (typeof id !== idType) return fail(`${path}.id`, `expected ${idType === 'number' ? 'an integer' : 'a string'} like $.images[0].id, got ${preview(id)}`);
    if (typeof fileName !== 'string' || fileName.trim() === '') return fail(`${path}.file_name`, 'expected a file name');
    const name = folder ? `${folder}/${fileName}` : fileName;
    if (nameById.has(key(id))) problems.add({ kind: 'duplicate-image', message: `Image id ${id} is listed twice.`, file, jsonPath: path, image: name });
    nameById.set(key(id), name);
    if (!images.has(name)) images.set(name, { name, captions: [], split, file, jsonPath: path });
  });
  annotations.forEach((entry: unknown, i) => {
    const path = jsonPath('annotations', i);
    if (typeof entry !== 'object' || entry === null) return fail(path, 'expected an object');
    const { image_id: imageId, caption } = entry as { image_id?: unknown; caption?: unknown };
    if (typeof imageId !== (idType ?? 'number') || (typeof imageId === 'number' && !Number.isSafeInteger(imageId))) {
      return fail(`${path}.image_id`, `expected ${(idType ?? 'number') === 'number' ? 'an integer' : 'a string'}, as $.images[].id, got ${preview(imageId)}`);
    }
    if (typeof caption !== 'string') return fail(`${path}.caption`, 'expected a string');
    const name = nameById.get(key(imageId as number | string));
    if (!name) {
      problems.add({ kind: 'unknown-image', message: `A caption refers to image id ${imageId}, which is not in $.images.`, file, jsonPath: path });
      return;
    }
    addCaption(images, name, { text: caption, jsonPath: path }, { file, jsonPath: path, split });
  });
}
