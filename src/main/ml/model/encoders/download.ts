/**
 * Downloading a TensorFlow.js model (model.json and its weight shards) into
 * a cache folder, with progress, verified before it is used:
 *
 * - model.json must parse and pass the structural checks (topology, a
 *   manifest of relative shard names with valid shapes);
 * - every shard must hold exactly the bytes its weights need;
 * - the sha256 of every file is recorded in `download.json` and checked
 *   again whenever the cache is used, so a damaged cache is noticed and
 *   fetched again; a pinned `sha256` for model.json is enforced.
 *
 * The files land in a temporary folder that is renamed into place only when
 * everything checked out, so the cache never holds half a model.
 */
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { checkModelJson, checkWeightFiles, modelFormat, type ModelFolder } from './modelFiles';
import type * as tf from '@tensorflow/tfjs';

export interface DownloadProgress {
  file: string;
  bytesDone: number;
  /** Known once model.json is read and servers send lengths. */
  bytesTotal: number | null;
}

export interface DownloadOptions {
  signal?: AbortSignal;
  onProgress?(progress: DownloadProgress): void;
  /** Expected sha256 of model.json (hex). */
  sha256?: string | null;
}

interface DownloadRecord {
  format: 'captioner-download';
  url: string;
  downloadedAt: string;
  files: Record<string, { sha256: string; bytes: number }>;
}

const RECORD = 'download.json';

/** TF Hub (and its Kaggle successor) serve tfjs files with `?tfjs-format=file`. */
function hubStyle(url: URL): boolean {
  return /(^|\.)tfhub\.dev$|(^|\.)kaggle\.com$/.test(url.hostname);
}

/** The model.json URL and how shard URLs are formed from a model URL or folder URL. */
export function modelUrls(source: string): { modelJson: string; shard(name: string): string } {
  const base = new URL(source);
  const hub = hubStyle(base);
  const folder = base.pathname.endsWith('model.json') ? new URL('.', base) : new URL(`${base.pathname.replace(/\/*$/, '/')}`, base);
  const withFormat = (url: URL) => {
    if (hub) url.searchParams.set('tfjs-format', 'file');
    return url.toString();
  };
  return {
    modelJson: withFormat(base.pathname.endsWith('model.json') ? new URL(base) : new URL('model.json', folder)),
    shard: (name) => withFormat(new URL(name, folder)),
  };
}

async function fetchBytes(url: string, signal: AbortSignal | undefined, onChunk: (bytes: number, total: number | null) => void): Promise<Buffer> {
  let response: Response;
  try {
    response = await fetch(url, { redirect: 'follow', ...(signal ? { signal } : {}) });
  } catch (error) {
    throw new Error(`Cannot download ${url}: ${(error as Error).message}`);
  }
  if (!response.ok || !response.body) throw new Error(`Cannot download ${url}: HTTP ${response.status} ${response.statusText}`);
  const length = Number(response.headers.get('content-length'));
  const chunks: Buffer[] = [];
  let done = 0;
  const reader = response.body.getReader();
  for (;;) {
    const { value, done: finished } = await reader.read();
    if (finished) break;
    chunks.push(Buffer.from(value));
    done += value.byteLength;
    onChunk(done, Number.isFinite(length) && length > 0 ? length : null);
  }
  return Buffer.concat(chunks);
}

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

/** Downloads `url` into `dir` (replacing nothing until every check passed). Returns the folder. */
export async function downloadModel(url: string, dir: string, options: DownloadOptions = {}): Promise<ModelFolder> {
  const urls = modelUrls(url);
  const temp = `${dir}.download-${randomBytes(4).toString('hex')}`;
  await mkdir(temp, { recursive: true });
  try {
    const files: DownloadRecord['files'] = {};
    const jsonBytes = await fetchBytes(urls.modelJson, options.signal, (bytesDone, bytesTotal) =>
      options.onProgress?.({ file: 'model.json', bytesDone, bytesTotal }),
    );
    const jsonHash = sha256(jsonBytes);
    if (options.sha256 && options.sha256.toLowerCase() !== jsonHash) {
      throw new Error(`${urls.modelJson}: sha256 ${jsonHash} does not match the expected ${options.sha256}.`);
    }
    let json: tf.io.ModelJSON;
    try {
      json = JSON.parse(jsonBytes.toString('utf8')) as tf.io.ModelJSON;
    } catch (error) {
      throw new Error(`${urls.modelJson}: not JSON (${(error as Error).message}); is this the URL of a TensorFlow.js model?`);
    }
    checkModelJson(json, urls.modelJson);
    await writeFile(join(temp, 'model.json'), jsonBytes);
    files['model.json'] = { sha256: jsonHash, bytes: jsonBytes.length };

    const shards = json.weightsManifest.flatMap((group) => group.paths);
    let before = 0;
    for (const shard of shards) {
      const bytes = await fetchBytes(urls.shard(shard), options.signal, (bytesDone) =>
        options.onProgress?.({ file: shard, bytesDone: before + bytesDone, bytesTotal: null }),
      );
      before += bytes.length;
      await mkdir(dirname(join(temp, shard)), { recursive: true });
      await writeFile(join(temp, shard), bytes);
      files[shard] = { sha256: sha256(bytes), bytes: bytes.length };
    }
    const folder: ModelFolder = { dir: temp, file: join(temp, 'model.json'), json, format: modelFormat(json) };
    await checkWeightFiles(folder);
    const record: DownloadRecord = { format: 'captioner-download', url, downloadedAt: new Date().toISOString(), files };
    await writeFile(join(temp, RECORD), `${JSON.stringify(record, null, 2)}\n`);
    await rm(dir, { recursive: true, force: true });
    await mkdir(dirname(dir), { recursive: true });
    await rename(temp, dir);
    return { ...folder, dir, file: join(dir, 'model.json') };
  } catch (error) {
    await rm(temp, { recursive: true, force: true });
    throw error;
  }
}

/** True when `dir` holds a complete download of `url` whose files still have their recorded hashes. */
export async function verifyDownload(dir: string, url: string): Promise<{ ok: true } | { ok: false; reason: string }> {
  const recordFile = join(dir, RECORD);
  if (!existsSync(recordFile)) return { ok: false, reason: 'not downloaded yet' };
  let record: DownloadRecord;
  try {
    record = JSON.parse(await readFile(recordFile, 'utf8')) as DownloadRecord;
  } catch {
    return { ok: false, reason: `${recordFile} is unreadable` };
  }
  if (record.url !== url) return { ok: false, reason: `the cache holds ${record.url}` };
  for (const [name, expected] of Object.entries(record.files)) {
    const path = join(dir, name);
    if (!existsSync(path)) return { ok: false, reason: `${name} is missing` };
    const bytes = await readFile(path);
    if (bytes.length !== expected.bytes || sha256(bytes) !== expected.sha256) return { ok: false, reason: `${name} changed since download` };
  }
  return { ok: true };
}

/** The cached folder for `url`, downloading (again) when missing or damaged. */
export async function cachedDownload(url: string, dir: string, options: DownloadOptions & { log?(message: string): void } = {}): Promise<string> {
  const check = await verifyDownload(dir, url);
  if (check.ok) return dir;
  if (check.reason !== 'not downloaded yet') options.log?.(`Downloading ${url} again: ${check.reason}.`);
  await downloadModel(url, dir, options);
  return dir;
}
