/**
 * Flickr30k: the token file `results_20130124.token` (same line format as
 * Flickr8k's) or Kaggle's `results.csv` (`image_name| comment_number| comment`),
 * images in `flickr30k_images/` (Kaggle nests it one level deeper). Flickr30k
 * has no official split; use the Karpathy JSON for the standard one.
 */
import { basename, dirname, extname, join } from 'node:path';
import { addCaption, type AnnotatedImage } from './assemble';
import { parseDelimited } from './delimited';
import { ProblemLog } from './problems';
import { firstLine, isDir, isFile, type DatasetReader } from './reader';
import { readText } from './textFile';
import { looksLikeTokenLine, parseTokenLines } from './tokenLines';
import { DatasetFormatError } from './types';

const PIPE_HEADER = /^image_name\s*\|\s*comment_number\s*\|\s*comment\s*$/i;
const TOKEN_NAMES = ['results_20130124.token', 'results.token', 'flickr30k.token', 'captions.token'];

export const flickr30kReader: DatasetReader = {
  format: 'flickr30k',
  description: 'Flickr30k: results_20130124.token (name#N<TAB>caption) or Kaggle results.csv (pipe-separated), images in flickr30k_images/',
  async locate(path) {
    if (await isDir(path)) {
      for (const name of TOKEN_NAMES) if (await isFile(join(path, name))) return join(path, name);
      const csv = join(path, 'results.csv');
      if ((await isFile(csv)) && PIPE_HEADER.test(await firstLine(csv))) return csv;
      return null;
    }
    const line = await firstLine(path);
    if (extname(path).toLowerCase() === '.csv') return PIPE_HEADER.test(line) ? path : null;
    if (!looksLikeTokenLine(line)) return null;
    const name = basename(path).toLowerCase();
    return extname(name) === '.token' || name.includes('30k') ? path : null;
  },
  async read(file) {
    const text = await readText(file);
    const images = extname(file).toLowerCase() === '.csv' ? parsePipeCsv(text, file) : parseTokenLines(text, file);
    const dir = dirname(file);
    return {
      format: 'flickr30k',
      source: file,
      images,
      hasSplits: false,
      imageDirCandidates: [
        join(dir, 'flickr30k_images', 'flickr30k_images'),
        join(dir, 'flickr30k_images'),
        join(dir, 'flickr30k-images'),
        join(dir, 'Images'),
        join(dir, 'images'),
        dir,
        join(dirname(dir), 'flickr30k_images'),
        join(dirname(dir), 'flickr30k-images'),
        dirname(dir),
      ],
      problems: new ProblemLog(),
    };
  },
};

/** Kaggle's file; a few rows lose the second `|` ("name| 4 A dog ..."), which is read as number then caption. */
function parsePipeCsv(text: string, file: string): Map<string, AnnotatedImage> {
  const records = parseDelimited(text, file, '|');
  const header = records[0];
  if (!header || !PIPE_HEADER.test(header.fields.join('|'))) {
    throw new DatasetFormatError(file, { line: header?.line ?? 1 }, 'expected the header "image_name| comment_number| comment"');
  }
  const images = new Map<string, AnnotatedImage>();
  for (const { line, fields } of records.slice(1)) {
    const image = fields[0]?.trim();
    let caption: string | undefined;
    if (fields.length >= 3) caption = fields.slice(2).join('|');
    else if (fields.length === 2) caption = /^\s*\d+\s+(.+)$/.exec(fields[1] as string)?.[1];
    if (!image || caption === undefined) throw new DatasetFormatError(file, { line }, 'expected "image_name| comment_number| comment"');
    addCaption(images, image, { text: caption, line }, { file, line });
  }
  return images;
}
