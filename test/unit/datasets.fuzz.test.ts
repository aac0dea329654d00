/**
 * Fuzzing the dataset readers: every supported format, its annotation file
 * mutated at random (flipped, inserted, deleted, duplicated and truncated
 * bytes, zero bytes, invalid UTF-8) and structurally (JSON nodes replaced by
 * the wrong type, deep nesting, huge strings; text lines duplicated, made
 * huge, unbalanced quotes, other delimiters, empty and header-only files).
 * Every case must end, in bounded time and memory, either in a clean read
 * (images with captions) or in a DatasetFormatError that names a file of the
 * dataset: never a crash (TypeError, RangeError, a stack overflow) or a hang.
 * Seeded, so a failure names the case that reproduces it.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRng, type Rng } from '../../src/main/lib/data/random';
import { DatasetFormatError, readDataset } from '../../src/main/lib/data/readers';
import {
  tempDir,
  writeCoco,
  writeFlickr30kPipeCsv,
  writeFlickr30kToken,
  writeFlickr8kCsv,
  writeFlickr8kToken,
  writeGenericCsv,
  writeJsonl,
  writeKarpathy,
  writeSidecarFolder,
} from '../helpers/datasetFixtures';

const CASES_PER_FORMAT = 40;
/** Longest any single read may take before it counts as a hang. */
const CASE_LIMIT_MS = 20_000;
/** Growth of the heap over the whole run that counts as unbounded memory. */
const HEAP_GROWTH_LIMIT = 768 * 2 ** 20;

interface Format {
  name: string;
  /** Writes the dataset under root; answers the annotation file the fuzzer mutates. */
  write(root: string): Promise<string>;
  json: boolean;
}

const FORMATS: Format[] = [
  { name: 'flickr8k-csv', write: writeFlickr8kCsv, json: false },
  { name: 'flickr8k-token', write: writeFlickr8kToken, json: false },
  { name: 'flickr30k-token', write: writeFlickr30kToken, json: false },
  { name: 'flickr30k-csv', write: writeFlickr30kPipeCsv, json: false },
  { name: 'coco', write: async (root) => join(await writeCoco(root), 'captions_train2014.json'), json: true },
  { name: 'karpathy', write: writeKarpathy, json: true },
  { name: 'csv', write: writeGenericCsv, json: false },
  { name: 'jsonl', write: writeJsonl, json: false },
  { name: 'folder', write: async (root) => join(await writeSidecarFolder(root), 'dog.txt'), json: false },
];

// ─── byte mutations ──────────────────────────────────────────────────────────

function byteMutation(bytes: Buffer, rng: Rng): Buffer {
  const at = () => rng.int(Math.max(1, bytes.length));
  switch (rng.int(8)) {
    case 0: {
      const copy = Buffer.from(bytes);
      for (let i = 0; i < 1 + rng.int(8); i++) copy[at()] = rng.int(256);
      return copy;
    }
    case 1:
      return bytes.subarray(0, at());
    case 2: {
      const i = at();
      return Buffer.concat([bytes.subarray(0, i), Buffer.from(Array.from({ length: 1 + rng.int(64) }, () => rng.int(256))), bytes.subarray(i)]);
    }
    case 3: {
      const i = at();
      return Buffer.concat([bytes.subarray(0, i), bytes.subarray(i + 1 + rng.int(32))]);
    }
    case 4: {
      const i = at();
      const piece = bytes.subarray(i, i + 1 + rng.int(200));
      return Buffer.concat([bytes.subarray(0, i), ...Array.from({ length: 2 + rng.int(500) }, () => piece), bytes.subarray(i)]);
    }
    case 5: {
      const i = at();
      return Buffer.concat([bytes.subarray(0, i), Buffer.from([0]), bytes.subarray(i)]);
    }
    case 6: {
      const i = at();
      return Buffer.concat([bytes.subarray(0, i), Buffer.from(rng.pick([[0xc3, 0x28], [0xed, 0xa0, 0x80], [0xf8], [0xe2, 0x82]])), bytes.subarray(i)]);
    }
    default:
      return Buffer.from(Array.from({ length: rng.int(5000) }, () => rng.int(256)));
  }
}

// ─── structured mutations ────────────────────────────────────────────────────

function deepNest(depth: number, open: string, close: string): string {
  return `${open.repeat(depth)}${close.repeat(depth)}`;
}

/** JSON text of a value no reader expects there; deep ones are written as text (JSON.stringify cannot). */
function strangeJson(rng: Rng): string {
  return rng.pick<() => string>([
    () => 'null',
    () => '0',
    () => '"0"',
    () => '-1',
    () => '1e400',
    () => '""',
    () => 'true',
    () => '{}',
    () => '[]',
    () => '{"images": 1}',
    () => JSON.stringify('x'.repeat(1 + rng.int(3_000_000))),
    () => '["a", 1, null]',
    () => '{"raw": "a dog", "tokens": "a dog"}',
    () => deepNest(20_000 + rng.int(80_000), '[', ']'),
    () => deepNest(20_000, '{"raw":', '}').replace('{"raw":}', '{"raw":"deep"}'),
  ])();
}

const HOLE = '__fuzz_hole__';

/** Marks one random node of a JSON tree (walking at most a few levels) to be replaced by strange JSON. */
function markNode(value: unknown, rng: Rng, depth = 0): unknown {
  if (depth > 6 || value === null || typeof value !== 'object' || rng.chance(0.25)) return HOLE;
  if (Array.isArray(value)) {
    if (value.length === 0) return HOLE;
    const copy = [...value];
    const i = rng.int(copy.length);
    copy[i] = markNode(copy[i], rng, depth + 1);
    return copy;
  }
  const keys = Object.keys(value);
  if (keys.length === 0) return HOLE;
  const key = rng.pick(keys);
  const copy = { ...(value as Record<string, unknown>) };
  if (rng.chance(0.15)) delete copy[key];
  else copy[key] = markNode(copy[key], rng, depth + 1);
  return copy;
}

function mutateTree(value: unknown, rng: Rng): string {
  return JSON.stringify(markNode(value, rng)).replace(`"${HOLE}"`, () => strangeJson(rng));
}

/** Every node of a JSON tree, as key paths, down to `maxDepth`. */
function nodePaths(value: unknown, maxDepth: number, path: Array<string | number> = []): Array<Array<string | number>> {
  const out: Array<Array<string | number>> = [path];
  if (path.length >= maxDepth || value === null || typeof value !== 'object') return out;
  const entries: Array<[string | number, unknown]> = Array.isArray(value) ? value.map((v, i) => [i, v]) : Object.entries(value);
  for (const [key, child] of entries) out.push(...nodePaths(child, maxDepth, [...path, key]));
  return out;
}

function withHoleAt(value: unknown, path: ReadonlyArray<string | number>): unknown {
  if (path.length === 0) return HOLE;
  const [key, ...rest] = path;
  if (Array.isArray(value)) return value.map((v, i) => (i === key ? withHoleAt(v, rest) : v));
  return { ...(value as Record<string, unknown>), [key!]: withHoleAt((value as Record<string, unknown>)[key as string], rest) };
}

/** The values every node is replaced with in the exhaustive sweep. */
const SWEEP_VALUES = ['null', '"0"', '0', '1.5', '{}', '[]', '"constructor"', '"__proto__"', deepNest(30_000, '[', ']'), deepNest(30_000, '{"a":', '}').replace('{"a":}', '{"a":1}')];

function jsonMutation(text: string, rng: Rng): string {
  const parsed = JSON.parse(text) as unknown;
  switch (rng.int(6)) {
    case 0:
      return deepNest(50_000 + rng.int(150_000), '[', ']');
    case 1:
      // Deep nesting inside an otherwise valid document.
      return text.replace(/"images":\s*\[/, `"images": [${deepNest(20_000, '[', ']')}, `);
    case 2:
      return `{"images": ${deepNest(10_000, '{"a":', '}').replace(/\{"a":\}/, '{"a":1}')}}`;
    case 3:
      return strangeJson(rng);
    default:
      return mutateTree(parsed, rng);
  }
}

function lineMutation(text: string, rng: Rng, jsonLines: boolean): string {
  const lines = text.split('\n');
  const i = rng.int(lines.length);
  switch (rng.int(9)) {
    case 0:
      return '';
    case 1:
      return `${lines[0]}\n`;
    case 2:
      lines[i] = 'x'.repeat(1_000_000 + rng.int(2_000_000));
      return lines.join('\n');
    case 3:
      lines.splice(i, 0, ...Array.from({ length: 2000 + rng.int(20_000) }, () => lines[i] ?? ''));
      return lines.join('\n');
    case 4:
      lines[i] = `"${lines[i] ?? ''}`;
      return lines.join('\n');
    case 5:
      return text.replace(/[,\t|]/g, rng.pick([';', '\t', '|', ',', '']));
    case 6:
      return jsonLines ? lines.map((line) => (rng.chance(0.5) ? mutateTree(safeParse(line), rng) : line)).join('\n') : text.replace(/\n/g, '\r');
    case 7:
      lines[i] = jsonLines ? deepNest(100_000, '[', ']') : `${lines[i]},${'"'.repeat(rng.int(5))}`;
      return lines.join('\n');
    default:
      return lines.reverse().join('\n');
  }
}

function safeParse(line: string): unknown {
  try {
    return JSON.parse(line);
  } catch {
    return line;
  }
}

function mutate(format: Format, original: Buffer, rng: Rng): Buffer {
  if (rng.chance(0.4)) return byteMutation(original, rng);
  const text = original.toString('utf8');
  return Buffer.from(format.json ? jsonMutation(text, rng) : lineMutation(text, rng, format.name === 'jsonl'));
}

// ─── the run ─────────────────────────────────────────────────────────────────

let temp: ReturnType<typeof tempDir>;
beforeAll(() => (temp = tempDir('readers-fuzz-')));
afterAll(() => temp.cleanup());

async function withinLimit<T>(promise: Promise<T>, label: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${label}: still reading after ${CASE_LIMIT_MS} ms (a hang)`)), CASE_LIMIT_MS);
  });
  try {
    return await Promise.race([promise, limit]);
  } finally {
    clearTimeout(timer);
  }
}

describe('dataset readers under random and structured mutations', () => {
  const heapAtStart = process.memoryUsage().heapUsed;
  let peakHeap = heapAtStart;

  for (const format of FORMATS) {
    it(`${format.name}: every mutated file reads cleanly or fails with a named error`, async () => {
      const root = join(temp.dir, format.name);
      const file = await format.write(root);
      const original = readFileSync(file);
      const rng = createRng(`fuzz-${format.name}`);
      const outcomes = { clean: 0, named: 0 };
      for (let n = 0; n < CASES_PER_FORMAT; n++) {
        const label = `${format.name} case ${n}`;
        writeFileSync(file, mutate(format, original, rng.fork(n)));
        try {
          const dataset = await withinLimit(readDataset(root), label);
          expect(dataset.images.some((image) => image.captions.length > 0), label).toBe(true);
          for (const image of dataset.images) for (const caption of image.captions) expect(caption.length, label).toBeLessThanOrEqual(2000);
          outcomes.clean += 1;
        } catch (error) {
          if (!(error instanceof DatasetFormatError)) throw new Error(`${label}: crashed with ${(error as Error).stack ?? String(error)}`);
          expect(error.file.startsWith(root), `${label}: ${error.message}`).toBe(true);
          expect(error.message.length, label).toBeLessThan(2000);
          outcomes.named += 1;
        }
        peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed);
      }
      writeFileSync(file, original);
      expect((await readDataset(root)).images.length).toBe(3);
      // Both outcomes occur: the mutations are not all fatal, nor all harmless.
      expect(outcomes.named).toBeGreaterThan(0);
      expect(peakHeap - heapAtStart).toBeLessThan(HEAP_GROWTH_LIMIT);
    }, CASES_PER_FORMAT * CASE_LIMIT_MS);
  }

  for (const format of FORMATS.filter((f) => f.json || f.name === 'jsonl')) {
    it(`${format.name}: every JSON node replaced by every wrong type, deep nesting included`, async () => {
      const root = join(temp.dir, `${format.name}-sweep`);
      const file = await format.write(root);
      const original = readFileSync(file, 'utf8');
      const documents = format.json ? [original] : original.trim().split('\n');
      let cases = 0;
      for (const [index, document] of documents.entries()) {
        const parsed = JSON.parse(document) as unknown;
        for (const path of nodePaths(parsed, 4)) {
          for (const value of SWEEP_VALUES) {
            const mutated = JSON.stringify(withHoleAt(parsed, path)).replace(`"${HOLE}"`, () => value);
            const text = format.json ? mutated : documents.map((line, i) => (i === index ? mutated : line)).join('\n');
            writeFileSync(file, text);
            const label = `${format.name}: ${path.join('.') || '$'} = ${value.slice(0, 20)}`;
            try {
              await withinLimit(readDataset(root), label);
            } catch (error) {
              if (!(error instanceof DatasetFormatError)) throw new Error(`${label}: crashed with ${(error as Error).stack ?? String(error)}`);
              expect(error.file.startsWith(root), label).toBe(true);
            }
            cases += 1;
          }
        }
      }
      writeFileSync(file, original);
      expect(cases).toBeGreaterThan(50);
      expect(peakHeap - heapAtStart).toBeLessThan(HEAP_GROWTH_LIMIT);
    }, 120_000);
  }
});
