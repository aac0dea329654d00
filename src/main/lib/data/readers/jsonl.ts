/**
 * JSON Lines: one object per line with an image field (image, file, path,
 * ...) and either a caption string or a captions array, optionally a split.
 * Several lines may name the same image.
 */
import { readdir } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { addCaption, type AnnotatedImage } from './assemble';
import { CAPTION_FIELDS, findField, IMAGE_FIELDS, parseSplit, SPLIT_FIELDS } from './columns';
import { imageDirsNear } from './imageFiles';
import { ProblemLog } from './problems';
import { isDir, type DatasetReader } from './reader';
import { numberedLines, readText } from './textFile';
import { DatasetFormatError } from './types';

export const jsonlReader: DatasetReader = {
  format: 'jsonl',
  description: 'JSON Lines: {"image": PATH, "caption": TEXT} or {"image": PATH, "captions": [TEXT, ...]} per line, optional "split"',
  async locate(path) {
    if (await isDir(path)) {
      const names = (await readdir(path)).filter((name) => ['.jsonl', '.ndjson'].includes(extname(name).toLowerCase())).sort();
      return names[0] ? join(path, names[0]) : null;
    }
    return ['.jsonl', '.ndjson'].includes(extname(path).toLowerCase()) ? path : null;
  },
  async read(file) {
    const images = new Map<string, AnnotatedImage>();
    let anySplit = false;
    for (const { line, text } of numberedLines(await readText(file))) {
      const fail = (message: string): never => {
        throw new DatasetFormatError(file, { line }, message);
      };
      let value: unknown;
      try {
        value = JSON.parse(text);
      } catch (error) {
        fail(`invalid JSON: ${(error as Error).message}`);
      }
      if (typeof value !== 'object' || value === null || Array.isArray(value)) return fail('expected a JSON object');
      const record = value as Record<string, unknown>;
      const keys = Object.keys(record);
      const imageKey = keys[findField(keys, IMAGE_FIELDS)];
      const captionKey = keys[findField(keys, CAPTION_FIELDS)];
      const splitKey = keys[findField(keys, SPLIT_FIELDS)];
      if (!imageKey) return fail(`no image field (expected one of: ${IMAGE_FIELDS.join(', ')})`);
      if (!captionKey) return fail(`no caption field (expected one of: ${CAPTION_FIELDS.join(', ')})`);
      const image = record[imageKey];
      if (typeof image !== 'string' || image.trim() === '') return fail(`"${imageKey}" must be a non-empty string`);
      const rawCaptions = record[captionKey];
      const captions = typeof rawCaptions === 'string' ? [rawCaptions] : rawCaptions;
      if (!Array.isArray(captions) || !captions.every((caption) => typeof caption === 'string')) {
        return fail(`"${captionKey}" must be a string or an array of strings`);
      }
      let split = null;
      if (splitKey !== undefined) {
        const parsed = typeof record[splitKey] === 'string' ? parseSplit(record[splitKey]) : undefined;
        if (parsed === undefined) return fail(`"${splitKey}" must be train, val or test`);
        split = parsed;
        anySplit ||= parsed !== null;
      }
      if (captions.length === 0 && !images.has(image.trim())) {
        images.set(image.trim(), { name: image.trim(), captions: [], split, file, line });
      }
      for (const caption of captions) addCaption(images, image.trim(), { text: caption, line }, { file, line, split });
    }
    return {
      format: 'jsonl',
      source: file,
      images,
      hasSplits: anySplit,
      imageDirCandidates: imageDirsNear(file),
      problems: new ProblemLog(),
    };
  },
};
