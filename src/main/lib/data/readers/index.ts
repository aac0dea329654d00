/**
 * Reading a caption dataset in any supported format. `readDataset(path)`
 * detects the format (or takes the one named), parses the annotations and
 * checks the images; `detectFormat` only answers which format and file.
 */
import { dirname, resolve } from 'node:path';
import { assembleDataset, type ReadOptions } from './assemble';
import { cocoReader } from './coco';
import { captionFileCandidates, explainUnreadable } from './diagnose';
import { csvReader } from './csv';
import { flickr30kReader } from './flickr30k';
import { flickr8kCsvReader } from './flickr8kCsv';
import { flickr8kTokenReader } from './flickr8kToken';
import { folderReader } from './folder';
import { jsonlReader } from './jsonl';
import { karpathyReader } from './karpathy';
import { isDir, isFile, type DatasetReader } from './reader';
import { DATASET_FORMATS, DatasetFormatError, type CaptionDataset, type DatasetFormat } from './types';

export type { ReadOptions } from './assemble';
export * from './types';

/**
 * Detection order for a folder: files that carry splits first (Karpathy JSON,
 * COCO with several caption files, Flickr8k with split lists), then the
 * single-file formats, then a plain folder of images with sidecars.
 */
export const READERS: readonly DatasetReader[] = [
  karpathyReader,
  cocoReader,
  flickr8kTokenReader,
  flickr30kReader,
  flickr8kCsvReader,
  csvReader,
  jsonlReader,
  folderReader,
];

export function readerFor(format: DatasetFormat): DatasetReader {
  const reader = READERS.find((candidate) => candidate.format === format);
  if (!reader) throw new Error(`Unknown dataset format "${format}" (known: ${DATASET_FORMATS.join(', ')}).`);
  return reader;
}

export interface Detected {
  format: DatasetFormat;
  /** The annotation file (or folder) that will be read. */
  source: string;
}

export async function detectFormat(path: string, format?: DatasetFormat): Promise<Detected> {
  const target = resolve(path);
  if (!(await isFile(target)) && !(await isDir(target))) throw new DatasetFormatError(target, {}, 'no such file or folder');
  if (format) {
    const reader = readerFor(format);
    const source = await reader.locate(target);
    if (source) return { format, source };
    // A file named explicitly is read as that format even if sniffing would not have matched it.
    if (await isFile(target)) return { format, source: target };
    throw new DatasetFormatError(target, {}, `found no ${format} annotations here (${reader.description})`);
  }
  for (const reader of READERS) {
    if (reader === folderReader) {
      // A caption file no format accepts is an error, never a plain image folder without captions.
      const candidates = (await isDir(target)) ? await captionFileCandidates(target) : [];
      if (candidates[0]) await explainUnreadable(candidates[0]);
    }
    const source = await reader.locate(target);
    if (source) return { format: reader.format, source };
  }
  if ((await isFile(target)) && (await captionFileCandidates(dirname(target))).includes(target)) await explainUnreadable(target);
  throw new DatasetFormatError(
    target,
    {},
    `not a dataset in a known format. Known formats:\n${READERS.map((r) => `  ${r.format}: ${r.description}`).join('\n')}`,
  );
}

export interface ReadDatasetOptions extends ReadOptions {
  format?: DatasetFormat;
}

/**
 * Reads a dataset. One with no usable caption (every caption empty, too
 * long, or of a missing image) is an error: it is never imported or trained.
 */
export async function readDataset(path: string, options: ReadDatasetOptions = {}): Promise<CaptionDataset> {
  const detected = await detectFormat(path, options.format);
  const reader = readerFor(detected.format);
  const dataset = await assembleDataset(await reader.read(detected.source), options);
  if (!dataset.images.some((image) => image.captions.length > 0)) {
    const found = Object.entries(dataset.problems.counts).map(([kind, count]) => `${count} ${kind}`);
    const folder = dataset.problems.examples.find((problem) => problem.kind === 'image-folder-not-found');
    throw new DatasetFormatError(
      detected.source,
      {},
      `no usable captions (read as ${detected.format}: ${dataset.images.length} readable images${found.length ? `; problems: ${found.join(', ')}` : ''}).` +
        (folder ? ` ${folder.message}` : ` Expected ${reader.description}.`),
    );
  }
  return dataset;
}
