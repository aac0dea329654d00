/**
 * Generic delimited file (`.csv`, `.tsv`, or any delimiter among , TAB | ;):
 * a header row naming an image column (image, image_path, file, filename,
 * path, ...) and a caption column (caption, text, sentence, ...), optionally
 * a split column. One row per caption; image paths are relative to the
 * file's folder (or an images/ folder beside it) or absolute.
 */
import { readdir } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { addCaption, type AnnotatedImage } from './assemble';
import { CAPTION_FIELDS, findField, IMAGE_FIELDS, parseSplit, SPLIT_FIELDS } from './columns';
import { parseDelimited, sniffDelimiter } from './delimited';
import { imageDirsNear } from './imageFiles';
import { ProblemLog } from './problems';
import { firstLine, isDir, isFile, type DatasetReader } from './reader';
import { readText } from './textFile';
import { DatasetFormatError } from './types';

const NAMES = ['captions.csv', 'captions.tsv', 'metadata.csv', 'annotations.csv'];

export const csvReader: DatasetReader = {
  format: 'csv',
  description: 'Generic CSV/TSV: a header with an image column (image, path, file, ...) and a caption column (caption, text, ...), optional split',
  async locate(path) {
    if (await isDir(path)) {
      for (const name of NAMES) if (await isFile(join(path, name))) return join(path, name);
      // Otherwise the first .csv/.tsv in the folder whose header names an image and a caption column.
      const files = (await readdir(path)).filter((name) => ['.csv', '.tsv'].includes(extname(name).toLowerCase())).sort();
      for (const name of files) {
        const header = await firstLine(join(path, name));
        const fields = header.split(sniffDelimiter(header));
        if (findField(fields, IMAGE_FIELDS) >= 0 && findField(fields, CAPTION_FIELDS) >= 0) return join(path, name);
      }
      return null;
    }
    // Any .csv/.tsv is taken, so a missing column is reported against its header line.
    return ['.csv', '.tsv'].includes(extname(path).toLowerCase()) ? path : null;
  },
  async read(file) {
    const text = await readText(file);
    const delimiter = extname(file).toLowerCase() === '.tsv' ? '\t' : sniffDelimiter(text.split(/\r?\n/)[0] ?? '');
    const records = parseDelimited(text, file, delimiter);
    const header = records[0];
    if (!header) throw new DatasetFormatError(file, { line: 1 }, 'the file is empty');
    const imageColumn = findField(header.fields, IMAGE_FIELDS);
    const captionColumn = findField(header.fields, CAPTION_FIELDS);
    const splitColumn = findField(header.fields, SPLIT_FIELDS);
    if (imageColumn < 0) throw new DatasetFormatError(file, { line: header.line }, `no image column in the header (expected one of: ${IMAGE_FIELDS.join(', ')})`);
    if (captionColumn < 0) throw new DatasetFormatError(file, { line: header.line }, `no caption column in the header (expected one of: ${CAPTION_FIELDS.join(', ')})`);
    const width = header.fields.length;
    const captionIsLast = captionColumn === width - 1;
    const images = new Map<string, AnnotatedImage>();
    let anySplit = false;
    for (const { line, fields } of records.slice(1)) {
      // An unquoted comma inside the last column (the caption) splits it; put it back together.
      const row = fields.length > width && captionIsLast ? [...fields.slice(0, width - 1), fields.slice(width - 1).join(delimiter)] : fields;
      if (row.length !== width) throw new DatasetFormatError(file, { line }, `expected ${width} fields like the header, found ${fields.length}`);
      const image = (row[imageColumn] as string).trim();
      if (!image) throw new DatasetFormatError(file, { line }, 'the image field is empty');
      let split = null;
      if (splitColumn >= 0) {
        const parsed = parseSplit(row[splitColumn] as string);
        if (parsed === undefined) throw new DatasetFormatError(file, { line }, `unknown split "${row[splitColumn]}" (expected train, val or test)`);
        split = parsed;
        anySplit ||= parsed !== null;
      }
      addCaption(images, image, { text: row[captionColumn] as string, line }, { file, line, split });
    }
    return {
      format: 'csv',
      source: file,
      images,
      hasSplits: anySplit,
      imageDirCandidates: imageDirsNear(file),
      problems: new ProblemLog(),
    };
  },
};
