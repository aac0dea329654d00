/** What each format module provides: finding its annotation file and reading it. */
import { open, stat } from 'node:fs/promises';
import type { Annotations } from './assemble';
import type { DatasetFormat } from './types';

export interface DatasetReader {
  format: DatasetFormat;
  /** One line for `--help` and the docs: what the format is and which files it reads. */
  description: string;
  /**
   * Given what the user pointed at (a file or a folder), the annotation
   * source this reader would read, or null if it does not recognise it.
   */
  locate(path: string): Promise<string | null>;
  read(source: string): Promise<Annotations>;
}

export async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

export async function isDir(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}

/** The first `bytes` of a file as text (for sniffing formats without parsing huge files). */
export async function readHead(file: string, bytes = 65_536): Promise<string> {
  const handle = await open(file, 'r');
  try {
    const buffer = Buffer.alloc(bytes);
    const { bytesRead } = await handle.read(buffer, 0, bytes, 0);
    const head = buffer.subarray(0, bytesRead);
    // UTF-16 with a byte-order mark is read like UTF-8 (readText decodes it too).
    if (head[0] === 0xff && head[1] === 0xfe) return head.subarray(2, bytesRead - (bytesRead % 2)).toString('utf16le');
    if (head[0] === 0xfe && head[1] === 0xff) return Buffer.from(head.subarray(2, bytesRead - (bytesRead % 2))).swap16().toString('utf16le');
    const text = head.toString('utf8');
    return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  } finally {
    await handle.close();
  }
}

export async function firstLine(file: string): Promise<string> {
  return (await readHead(file, 4096)).split(/\r?\n/)[0] ?? '';
}
