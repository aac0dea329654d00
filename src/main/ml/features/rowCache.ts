/**
 * The storage both caches share: one row per image, in the image set's
 * order, in one binary file per array (features: pooled + grid; pixels:
 * bytes), plus three small JSON files:
 *
 *   index.json  what the cache holds: key, fingerprint, files, row count
 *   ids.json    the image ids, row i = ids[i]
 *   state.json  build progress: rows processed, failed rows, complete flag
 *
 * A build appends rows batch by batch and records progress every few
 * seconds after syncing the data, so a cancelled or crashed build resumes
 * where it stopped. Opening compares the stored fingerprint with the
 * expected one: a mismatch (new weights, changed images, other settings)
 * or damaged files mean the cache is stale, and it is rebuilt from scratch.
 * Failed images (undecodable) get zero rows and are listed, so rows stay
 * aligned with positions.
 */
import { closeSync, ftruncateSync, fsyncSync, openSync, readSync, writeSync } from 'node:fs';
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ApiError } from '../../../shared/errors';
import { withBuildLock } from './buildLock';

export type RowDtype = 'float16' | 'float32' | 'uint8';

export interface RowFile {
  name: string;
  dtype: RowDtype;
  /** Shape of one row, e.g. [1280] or [49, 1280] or [224, 224, 3]. */
  rowShape: number[];
}

export const DTYPE_BYTES: Record<RowDtype, number> = { float16: 2, float32: 4, uint8: 1 };

export function rowBytes(file: RowFile): number {
  return file.rowShape.reduce((a, b) => a * b, 1) * DTYPE_BYTES[file.dtype];
}

export interface CacheIndex {
  format: 'captioner-row-cache';
  version: 1;
  kind: string;
  /** Human-readable description of what was computed (encoder, size, ...). */
  key: Record<string, string | number>;
  /** Hash of the key, the weights and the image set: equal means the cache is valid. */
  fingerprint: string;
  files: RowFile[];
  rows: number;
  createdAt: string;
}

export interface FailedRow {
  row: number;
  id: string;
  reason: string;
  message: string;
}

export interface CacheState {
  processed: number;
  complete: boolean;
  failed: FailedRow[];
  updatedAt: string;
}

export type CacheStatus = 'hit' | 'built' | 'resumed' | 'rebuilt-stale' | 'rebuilt-damaged';

export interface BatchRows {
  /** One buffer per file, each `count × rowBytes` long. */
  buffers: Uint8Array[];
  failed: { offset: number; reason: string; message: string }[];
}

export interface BuildStages<P> {
  /** Asynchronous part (decoding); the next batch is prepared while the current one finishes. */
  prepare(ids: readonly string[], start: number): Promise<P>;
  /** The part that needs the previous stage (encoding), producing the rows. */
  finish(prepared: P): Promise<BatchRows>;
}

export interface BuildProgress {
  stage: string;
  done: number;
  total: number;
  etaSeconds: number | null;
  message?: string;
}

export interface EnsureOptions<P> {
  dir: string;
  kind: string;
  key: Record<string, string | number>;
  fingerprint: string;
  files: RowFile[];
  ids: readonly string[];
  batchSize: number;
  stages: BuildStages<P>;
  signal?: AbortSignal;
  onProgress?: (progress: BuildProgress) => void;
  /** How often progress is made durable (ms). */
  checkpointMs?: number;
}

const INDEX = 'index.json';
const IDS = 'ids.json';
const STATE = 'state.json';

async function readJsonFile<T>(file: string): Promise<T | null> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as T;
  } catch {
    return null;
  }
}

async function writeJsonAtomic(file: string, value: unknown): Promise<void> {
  await writeFile(`${file}.partial`, JSON.stringify(value));
  await rename(`${file}.partial`, file);
}

function binName(file: RowFile): string {
  return `${file.name}.${file.dtype}.bin`;
}

/** Whether the stored files match what is expected; the reason when not. */
async function inspect(dir: string, fingerprint: string, ids: readonly string[]): Promise<{ kind: 'missing' } | { kind: 'stale' | 'damaged'; reason: string } | { kind: 'valid'; state: CacheState; index: CacheIndex }> {
  const index = await readJsonFile<CacheIndex>(join(dir, INDEX));
  if (!index) return { kind: 'missing' };
  if (index.format !== 'captioner-row-cache' || index.version !== 1) return { kind: 'stale', reason: 'written by another version' };
  if (index.fingerprint !== fingerprint) return { kind: 'stale', reason: 'images, weights or settings changed' };
  const state = await readJsonFile<CacheState>(join(dir, STATE));
  const storedIds = await readJsonFile<string[]>(join(dir, IDS));
  if (!state || !storedIds || storedIds.length !== ids.length || index.rows !== ids.length) return { kind: 'damaged', reason: 'index files missing or inconsistent' };
  for (const file of index.files) {
    const size = await stat(join(dir, binName(file))).then((s) => s.size, () => -1);
    if (size < state.processed * rowBytes(file)) return { kind: 'damaged', reason: `${binName(file)} is shorter than its recorded rows` };
    if (state.complete && size !== state.processed * rowBytes(file)) return { kind: 'damaged', reason: `${binName(file)} has the wrong size` };
  }
  return { kind: 'valid', state, index };
}

/**
 * Makes sure a complete cache exists at `dir` for these ids, building or
 * resuming it; returns what happened. Builders of one folder take turns.
 */
export function ensureRowCache<P>(options: EnsureOptions<P>): Promise<CacheStatus> {
  return withBuildLock(options.dir, options.signal, () => ensureLocked(options));
}

async function ensureLocked<P>(options: EnsureOptions<P>): Promise<CacheStatus> {
  const { dir, ids, files } = options;
  const found = await inspect(dir, options.fingerprint, ids);
  if (found.kind === 'valid' && found.state.complete) return 'hit';

  let status: CacheStatus;
  let state: CacheState;
  if (found.kind === 'valid') {
    status = 'resumed';
    state = found.state;
  } else {
    status = found.kind === 'missing' ? 'built' : found.kind === 'stale' ? 'rebuilt-stale' : 'rebuilt-damaged';
    await rm(dir, { recursive: true, force: true });
    await mkdir(dir, { recursive: true });
    state = { processed: 0, complete: false, failed: [], updatedAt: new Date().toISOString() };
    await writeJsonAtomic(join(dir, IDS), ids);
    await writeJsonAtomic(join(dir, STATE), state);
    const index: CacheIndex = {
      format: 'captioner-row-cache',
      version: 1,
      kind: options.kind,
      key: options.key,
      fingerprint: options.fingerprint,
      files,
      rows: ids.length,
      createdAt: new Date().toISOString(),
    };
    await writeJsonAtomic(join(dir, INDEX), index);
  }

  const handles = files.map((file) => openSync(join(dir, binName(file)), state.processed === 0 ? 'w' : 'r+'));
  try {
    // Rows past the last recorded checkpoint may be half written: drop them.
    files.forEach((file, i) => ftruncateSync(handles[i] as number, state.processed * rowBytes(file)));
    const positions = files.map((file) => state.processed * rowBytes(file));
    const started = Date.now();
    const startedAt = state.processed;
    let lastCheckpoint = Date.now();
    const checkpoint = async () => {
      for (const handle of handles) fsyncSync(handle);
      state.updatedAt = new Date().toISOString();
      await writeJsonAtomic(join(dir, STATE), state);
      lastCheckpoint = Date.now();
    };
    const batchAt = (start: number) => ids.slice(start, Math.min(ids.length, start + options.batchSize));
    let next: Promise<P> | null = state.processed < ids.length ? options.stages.prepare(batchAt(state.processed), state.processed) : null;
    while (next) {
      const start = state.processed;
      const batch = batchAt(start);
      const cancelled = async () => {
        await checkpoint();
        return new ApiError('cancelled', `Cancelled after ${state.processed} of ${ids.length} images; the cache resumes from there.`);
      };
      let prepared: P;
      try {
        prepared = await next;
      } catch (error) {
        throw options.signal?.aborted ? await cancelled() : error;
      }
      if (options.signal?.aborted) throw await cancelled();
      const following = start + batch.length;
      next = following < ids.length ? options.stages.prepare(batchAt(following), following) : null;
      // A failed prefetch is handled when it is awaited; never leave it unobserved meanwhile.
      next?.catch(() => undefined);
      const rows = await options.stages.finish(prepared);
      files.forEach((file, i) => {
        const buffer = rows.buffers[i] as Uint8Array;
        if (buffer.byteLength !== batch.length * rowBytes(file)) {
          throw new Error(`Cache ${file.name}: a batch of ${batch.length} rows gave ${buffer.byteLength} bytes, expected ${batch.length * rowBytes(file)}.`);
        }
        writeSync(handles[i] as number, buffer, 0, buffer.byteLength, positions[i]);
        positions[i] = (positions[i] as number) + buffer.byteLength;
      });
      for (const failure of rows.failed) state.failed.push({ row: start + failure.offset, id: batch[failure.offset] as string, reason: failure.reason, message: failure.message });
      state.processed = following;
      const elapsed = (Date.now() - started) / 1000;
      const rate = (state.processed - startedAt) / Math.max(elapsed, 1e-3);
      options.onProgress?.({ stage: options.kind, done: state.processed, total: ids.length, etaSeconds: rate > 0 ? (ids.length - state.processed) / rate : null });
      if (Date.now() - lastCheckpoint > (options.checkpointMs ?? 2000)) await checkpoint();
    }
    state.complete = true;
    await checkpoint();
  } finally {
    for (const handle of handles) closeSync(handle);
  }
  return status;
}

/** Read access to a complete cache: rows by image id, with positioned reads (no whole-file loads). */
export class RowCacheReader {
  private readonly rowOf: Map<string, number>;
  private readonly handles: Map<string, number>;

  private constructor(
    readonly dir: string,
    readonly index: CacheIndex,
    readonly ids: readonly string[],
    readonly failed: readonly FailedRow[],
  ) {
    const failedRows = new Set(failed.map((f) => f.row));
    this.rowOf = new Map();
    ids.forEach((id, row) => {
      if (!failedRows.has(row)) this.rowOf.set(id, row);
    });
    this.handles = new Map(index.files.map((file) => [file.name, openSync(join(dir, binName(file)), 'r')]));
  }

  static async open(dir: string): Promise<RowCacheReader> {
    const index = await readJsonFile<CacheIndex>(join(dir, INDEX));
    const state = await readJsonFile<CacheState>(join(dir, STATE));
    const ids = await readJsonFile<string[]>(join(dir, IDS));
    if (!index || !state || !ids) throw new Error(`${dir}: not a cache (index.json, state.json or ids.json missing).`);
    if (!state.complete) throw new Error(`${dir}: the cache is incomplete (${state.processed} of ${index.rows} rows); build it first.`);
    return new RowCacheReader(dir, index, ids, state.failed);
  }

  file(name: string): RowFile {
    const file = this.index.files.find((f) => f.name === name);
    if (!file) throw new Error(`${this.dir}: no "${name}" array in this cache.`);
    return file;
  }

  has(id: string): boolean {
    return this.rowOf.has(id);
  }

  /** Image ids with a usable row (failed images left out), in row order. */
  usableIds(): string[] {
    return [...this.rowOf.keys()];
  }

  row(id: string): number {
    const row = this.rowOf.get(id);
    if (row === undefined) throw new Error(`${this.dir}: image "${id}" is not in the cache (or failed to decode).`);
    return row;
  }

  /** Raw bytes of the rows of `ids`, back to back. */
  readRows(name: string, ids: readonly string[]): Uint8Array {
    const file = this.file(name);
    const bytes = rowBytes(file);
    const out = new Uint8Array(ids.length * bytes);
    const handle = this.handles.get(name) as number;
    ids.forEach((id, i) => {
      const read = readSync(handle, out, i * bytes, bytes, this.row(id) * bytes);
      if (read !== bytes) throw new Error(`${this.dir}: short read of "${id}" in ${binName(file)}.`);
    });
    return out;
  }

  close(): void {
    for (const handle of this.handles.values()) closeSync(handle);
    this.handles.clear();
  }
}

/** What every typed view of a row cache (features, pixels) exposes about its rows. */
export abstract class RowCacheView {
  constructor(protected readonly reader: RowCacheReader) {}

  get dir(): string {
    return this.reader.dir;
  }

  /** Images with rows, in cache order. */
  get ids(): string[] {
    return this.reader.usableIds();
  }

  /** Images that could not be decoded: left out of training. */
  get failed(): readonly FailedRow[] {
    return this.reader.failed;
  }

  has(id: string): boolean {
    return this.reader.has(id);
  }
}
