/**
 * Flickr8k as Kaggle ships it: `captions.txt`, a CSV with the header
 * `image,caption` and one row per caption, next to an `Images/` folder.
 * Captions in this file are often unquoted and contain commas, so every
 * field after the first is part of the caption.
 */
import { dirname, extname, join } from 'node:path';
import { addCaption, type AnnotatedImage } from './assemble';
import { parseDelimited } from './delimited';
import { ProblemLog } from './problems';
import { firstLine, isDir, isFile, type DatasetReader } from './reader';
import { readText } from './textFile';
import { DatasetFormatError } from './types';

const HEADER = /^image,caption\s*$/i;

export const flickr8kCsvReader: DatasetReader = {
  format: 'flickr8k-csv',
  description: 'Flickr8k (Kaggle): captions.txt with an "image,caption" header, images in Images/',
  async locate(path) {
    if (await isDir(path)) {
      const file = join(path, 'captions.txt');
      return (await isFile(file)) && HEADER.test(await firstLine(file)) ? file : null;
    }
    return extname(path).toLowerCase() === '.txt' && HEADER.test(await firstLine(path)) ? path : null;
  },
  async read(file) {
    const records = parseDelimited(await readText(file), file, ',');
    const header = records[0];
    if (!header || !HEADER.test(header.fields.join(','))) {
      throw new DatasetFormatError(file, { line: header?.line ?? 1 }, 'expected the header "image,caption"');
    }
    const images = new Map<string, AnnotatedImage>();
    for (const record of records.slice(1)) {
      const [image, ...rest] = record.fields;
      if (!image?.trim() || rest.length === 0) {
        throw new DatasetFormatError(file, { line: record.line }, 'expected "image,caption"');
      }
      addCaption(images, image.trim(), { text: rest.join(','), line: record.line }, { file, line: record.line });
    }
    const dir = dirname(file);
    return {
      format: 'flickr8k-csv',
      source: file,
      images,
      hasSplits: false,
      imageDirCandidates: [join(dir, 'Images'), join(dir, 'images'), dir, join(dir, '..', 'Images'), dirname(dir)],
      problems: new ProblemLog(),
    };
  },
};
