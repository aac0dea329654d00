/**
 * Reading annotation files: UTF-8 with or without a BOM, or UTF-16 with a
 * BOM; anything else (binary data, invalid UTF-8) is an error naming the
 * file and line. Files over MAX_ANNOTATION_BYTES are refused, so reading any
 * input keeps memory bounded. Lines are numbered from 1; JSON errors carry a
 * line.
 */
import { readFile, stat } from 'node:fs/promises';
import { DatasetFormatError } from './types';

/** Largest annotation file read (Karpathy's dataset_coco.json, the largest usual one, is 144 MB). */
export const MAX_ANNOTATION_BYTES = 512 * 1024 * 1024;

/** Decodes an annotation file's bytes; throws a DatasetFormatError naming the file and line when it is not text. */
export function decodeText(bytes: Buffer, file: string): string {
  if (bytes[0] === 0xff && bytes[1] === 0xfe) return utf16(bytes.subarray(2), 'le');
  if (bytes[0] === 0xfe && bytes[1] === 0xff) return utf16(bytes.subarray(2), 'be');
  const body = bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? bytes.subarray(3) : bytes;
  const nul = body.indexOf(0);
  if (nul >= 0) {
    throw new DatasetFormatError(file, { line: lineAt(body, nul) }, `binary data (a zero byte at offset ${nul}): expected UTF-8 text, or UTF-16 with a byte-order mark`);
  }
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(body);
  } catch {
    const bad = firstInvalidUtf8(body);
    throw new DatasetFormatError(file, { line: lineAt(body, bad) }, `invalid UTF-8 at offset ${bad}: expected UTF-8 text, or UTF-16 with a byte-order mark`);
  }
}

function utf16(bytes: Buffer, order: 'le' | 'be'): string {
  const even = bytes.subarray(0, bytes.length - (bytes.length % 2));
  const little = order === 'le' ? even : Buffer.from(even).swap16();
  return little.toString('utf16le');
}

function lineAt(bytes: Buffer, offset: number): number {
  let line = 1;
  for (let i = bytes.indexOf(10); i >= 0 && i < offset; i = bytes.indexOf(10, i + 1)) line += 1;
  return line;
}

/** Offset of the first byte that does not start or continue a valid UTF-8 sequence. */
function firstInvalidUtf8(bytes: Buffer): number {
  const strict = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
  let i = 0;
  while (i < bytes.length) {
    const byte = bytes[i]!;
    const length = byte < 0x80 ? 1 : byte >= 0xc2 && byte < 0xe0 ? 2 : byte >= 0xe0 && byte < 0xf0 ? 3 : byte >= 0xf0 && byte < 0xf5 ? 4 : 0;
    if (length === 0 || i + length > bytes.length) return i;
    try {
      strict.decode(bytes.subarray(i, i + length)); // overlong forms and surrogates throw
    } catch {
      return i;
    }
    i += length;
  }
  return i;
}

export async function readText(file: string): Promise<string> {
  let bytes: Buffer;
  try {
    const size = (await stat(file)).size;
    if (size > MAX_ANNOTATION_BYTES) {
      throw new DatasetFormatError(file, {}, `the file is ${(size / 2 ** 20).toFixed(0)} MiB; annotation files over ${MAX_ANNOTATION_BYTES / 2 ** 20} MiB are not read`);
    }
    bytes = await readFile(file);
  } catch (error) {
    if (error instanceof DatasetFormatError) throw error;
    throw new DatasetFormatError(file, {}, `cannot read the file: ${(error as Error).message}`);
  }
  return decodeText(bytes, file);
}

export interface NumberedLine {
  line: number;
  text: string;
}

/** Non-blank lines with their 1-based numbers; `\r\n` and `\n` both end a line. */
export function numberedLines(text: string): NumberedLine[] {
  const out: NumberedLine[] = [];
  const lines = text.split(/\r?\n/);
  lines.forEach((raw, index) => {
    if (raw.trim() !== '') out.push({ line: index + 1, text: raw });
  });
  return out;
}

/** Parses JSON, turning the parser's character offset into a line and column. */
export async function readJson(file: string): Promise<unknown> {
  const text = await readText(file);
  try {
    return JSON.parse(text);
  } catch (error) {
    const message = (error as Error).message;
    const position = /position (\d+)/.exec(message);
    if (position) {
      const offset = Number(position[1]);
      const before = text.slice(0, offset);
      const line = before.split('\n').length;
      const column = offset - before.lastIndexOf('\n');
      throw new DatasetFormatError(file, { line }, `invalid JSON at column ${column}: ${message}`);
    }
    // "Unexpected end of JSON input": the file stops early, so the error is at its last line.
    throw new DatasetFormatError(file, { line: text.split('\n').length }, `invalid JSON: ${message}`);
  }
}

/** Compact JSON path for error messages: `$.images[3].file_name`. */
export function jsonPath(...parts: (string | number)[]): string {
  return parts.reduce<string>((path, part) => (typeof part === 'number' ? `${path}[${part}]` : `${path}.${part}`), '$');
}

/**
 * A value as an error message shows it: its type and a short form. Never
 * serialises arrays or objects, which may be nested deeper than
 * JSON.stringify can go.
 */
export function preview(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return `an array of ${value.length} items`;
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'string') return `a string ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)}`;
  return `a ${typeof value} ${String(value)}`;
}
