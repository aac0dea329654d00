/** Reading annotation files: UTF-8 with or without a BOM, lines numbered from 1, JSON errors with a line. */
import { readFile } from 'node:fs/promises';
import { DatasetFormatError } from './types';

export async function readText(file: string): Promise<string> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new DatasetFormatError(file, {}, `cannot read the file: ${(error as Error).message}`);
  }
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
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
