/**
 * When no format recognises a dataset, a file that looks like a caption file
 * (captions.txt, a token file, a JSON with "images" or "annotations", a CSV
 * naming a caption column, JSON Lines) is not silently ignored in favour of
 * a plain image folder: `explainUnreadable` reads it as the format it looks
 * like and says exactly why it is not one (file, line or JSON path, what was
 * expected).
 */
import { readdir, stat } from 'node:fs/promises';
import { basename, extname, join } from 'node:path';
import { cocoReader } from './coco';
import { csvReader } from './csv';
import { jsonlReader } from './jsonl';
import { karpathyReader } from './karpathy';
import { readHead, type DatasetReader } from './reader';
import { numberedLines, readJson, readText } from './textFile';
import { DatasetFormatError } from './types';

const TEXT_EXPECTED =
  'expected the header "image,caption" and one "image,caption" row per caption (Flickr8k captions.txt), or "<image>#<n><TAB><caption>" lines (Flickr8k token file)';
const JSON_EXPECTED =
  'expected a Karpathy JSON ({"images": [{"filename", "split", "sentences": [{"raw"}]}]}) or COCO captions ({"images": [{"id", "file_name"}], "annotations": [{"image_id", "caption"}]})';

/** Top-level files of `dir` that look like caption annotations. */
export async function captionFileCandidates(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const name of (await readdir(dir)).sort()) {
    const file = join(dir, name);
    if (name.startsWith('.') || !(await stat(file).then((s) => s.isFile(), () => false))) continue;
    if (await looksLikeCaptionFile(file)) out.push(file);
  }
  return out;
}

async function looksLikeCaptionFile(file: string): Promise<boolean> {
  const name = basename(file).toLowerCase();
  const ext = extname(name);
  if (name === 'captions.txt' || /token.*\.txt$/.test(name) || /^captions_.*\.json$/.test(name) || /^dataset_.*\.json$/.test(name)) return true;
  if (!['.json', '.jsonl', '.csv', '.tsv'].includes(ext)) return false;
  const head = await readHead(file, 4096).catch(() => '');
  if (ext === '.json') return /"(images|annotations|sentences|captions?)"/.test(head);
  return /caption|sentence/i.test(head.split(/\r?\n/)[0] ?? '');
}

/** Why `file`, which looks like a caption file, cannot be read as one: always throws a DatasetFormatError. */
export async function explainUnreadable(file: string): Promise<never> {
  const size = (await stat(file)).size;
  const ext = extname(file).toLowerCase();
  const expected = ext === '.json' ? JSON_EXPECTED : TEXT_EXPECTED;
  if (size === 0) throw new DatasetFormatError(file, {}, `the file is empty: ${expected}`);
  // Binary data, invalid UTF-8 and oversized files fail here with their own line.
  const text = await readText(file);
  if (ext === '.json') await explainJson(file);
  if (ext === '.jsonl' || ext === '.csv' || ext === '.tsv') await readAs(ext === '.jsonl' ? jsonlReader : csvReader, file);
  const lines = numberedLines(text);
  const first = lines[0];
  if (!first) throw new DatasetFormatError(file, {}, `the file has only blank lines: ${expected}`);
  if (/^image,caption\s*$/i.test(first.text)) {
    throw new DatasetFormatError(file, { line: first.line }, 'the header "image,caption" is there but no caption rows follow it');
  }
  const shown = first.text.length > 60 ? `${JSON.stringify(first.text.slice(0, 60))}… (${first.text.length} characters)` : JSON.stringify(first.text);
  throw new DatasetFormatError(file, { line: first.line }, `line ${first.line} is ${shown}: ${expected}`);
}

/** Reads a JSON that was not recognised with the reader it resembles, whose error names the JSON path. */
async function explainJson(file: string): Promise<never> {
  const json = await readJson(file);
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new DatasetFormatError(file, { jsonPath: '$' }, `${Array.isArray(json) ? 'an array' : typeof json}: ${JSON_EXPECTED}`);
  }
  const record = json as Record<string, unknown>;
  if ('annotations' in record) await readAs(cocoReader, file);
  if (!('images' in record)) throw new DatasetFormatError(file, { jsonPath: '$.images' }, `missing: ${JSON_EXPECTED}`);
  const images = record.images;
  if (!Array.isArray(images)) throw new DatasetFormatError(file, { jsonPath: '$.images' }, `${images === null ? 'null' : typeof images}, expected an array: ${JSON_EXPECTED}`);
  const first = images.findIndex((image) => typeof image !== 'object' || image === null || !('sentences' in image));
  if (first >= 0) throw new DatasetFormatError(file, { jsonPath: `$.images[${first}].sentences` }, `missing: ${JSON_EXPECTED}`);
  return readAs(karpathyReader, file);
}

/** Reads `file` as `reader`'s format: its error is the explanation; a clean read means it holds no captions. */
async function readAs(reader: DatasetReader, file: string): Promise<never> {
  const annotations = await reader.read(file);
  const captions = [...annotations.images.values()].reduce((sum, image) => sum + image.captions.length, 0);
  throw new DatasetFormatError(file, {}, `read as ${reader.format}, it holds ${annotations.images.size} images and ${captions} captions: no usable captions`);
}
