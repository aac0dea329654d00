/**
 * The Karpathy split JSON (`dataset_coco.json`, `dataset_flickr8k.json`,
 * `dataset_flickr30k.json`): `images[]` with `filename`, optional `filepath`,
 * `split` (train, val, test, or restval, which is used as train as is
 * customary) and `sentences[]` with `raw` (or `tokens`). The standard splits
 * for captioning research; the Shapes benchmark writes one too.
 */
import { readdir } from 'node:fs/promises';
import { dirname, extname, join } from 'node:path';
import type { AnnotatedImage } from './assemble';
import { ProblemLog } from './problems';
import { isDir, readHead, type DatasetReader } from './reader';
import { jsonPath, preview, readJson } from './textFile';
import { DatasetFormatError, type SplitName } from './types';

const SPLITS: Record<string, SplitName> = { train: 'train', restval: 'train', val: 'val', test: 'test' };

export const karpathyReader: DatasetReader = {
  format: 'karpathy',
  description: 'Karpathy splits: dataset_<name>.json with images[].filename, split and sentences[].raw',
  async locate(path) {
    if (await isDir(path)) {
      const names = (await readdir(path)).filter((name) => /^dataset_.+\.json$/i.test(name)).sort();
      for (const name of names) if ((await readHead(join(path, name))).includes('"sentences"')) return join(path, name);
      return null;
    }
    return extname(path).toLowerCase() === '.json' && (await readHead(path)).includes('"sentences"') ? path : null;
  },
  async read(file) {
    const json = await readJson(file);
    const fail = (path: string, message: string): never => {
      throw new DatasetFormatError(file, { jsonPath: path }, message);
    };
    if (typeof json !== 'object' || json === null) return fail('$', 'expected an object with "images"');
    const list = (json as { images?: unknown }).images;
    if (!Array.isArray(list)) return fail('$.images', 'expected an array');
    const problems = new ProblemLog();
    const images = new Map<string, AnnotatedImage>();
    list.forEach((entry: unknown, i) => {
      const path = jsonPath('images', i);
      if (typeof entry !== 'object' || entry === null) return fail(path, 'expected an object');
      const { filename, filepath, split, sentences } = entry as Record<string, unknown>;
      if (typeof filename !== 'string' || filename.trim() === '') return fail(`${path}.filename`, 'expected a file name');
      if (filepath !== undefined && typeof filepath !== 'string') return fail(`${path}.filepath`, 'expected a string');
      if (typeof split !== 'string' || !Object.hasOwn(SPLITS, split)) return fail(`${path}.split`, `expected train, val, test or restval (got ${preview(split)})`);
      if (!Array.isArray(sentences)) return fail(`${path}.sentences`, 'expected an array');
      const name = filepath ? `${filepath}/${filename}` : filename;
      const captions = sentences.map((sentence: unknown, j) => {
        const sentencePath = `${path}.sentences[${j}]`;
        if (typeof sentence !== 'object' || sentence === null) return fail(sentencePath, 'expected an object');
        const { raw, tokens } = sentence as { raw?: unknown; tokens?: unknown };
        if (typeof raw === 'string') return { text: raw, jsonPath: sentencePath };
        if (Array.isArray(tokens) && tokens.every((token) => typeof token === 'string')) return { text: tokens.join(' '), jsonPath: sentencePath };
        return fail(sentencePath, 'expected "raw" (a string) or "tokens" (strings)');
      });
      if (images.has(name)) {
        problems.add({ kind: 'duplicate-image', message: `${name} is listed twice; the captions are merged.`, file, jsonPath: path, image: name });
        images.get(name)?.captions.push(...captions);
        return;
      }
      images.set(name, { name, captions, split: SPLITS[split] as SplitName, file, jsonPath: path });
    });
    const dir = dirname(file);
    const parent = dirname(dir);
    const guesses = ['Images', 'images', 'Flicker8k_Dataset', 'Flickr8k_Dataset', 'flickr30k_images', 'flickr30k-images', 'coco'];
    return {
      format: 'karpathy',
      source: file,
      images,
      hasSplits: true,
      imageDirCandidates: [dir, ...guesses.map((g) => join(dir, g)), parent, ...guesses.map((g) => join(parent, g))],
      problems,
    };
  },
};
