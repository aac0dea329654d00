/**
 * Verifying images by decoding them (the import's thorough pass), through
 * the engine method: truncated PNG and JPEG files, a 0-byte file, a text
 * file named .jpg, a decompression bomb and a missing file are each named
 * with their reason; good images pass; progress arrives per image; a
 * cancelled verification stops.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32, deflateSync } from 'node:zlib';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { dataEngineHandlers, type VerifyImagesProgressData } from '../../src/main/engine/handlers/data';
import type { EngineContext, EngineProgress } from '../../src/main/engine/protocol';
import { withBadImages, type BadImage } from '../../src/main/lib/data/readers/verifyImages';

let dir: string;
const files: Record<string, string> = {};

/** A PNG whose header claims `width` × `height` pixels of zeros: tiny on disk, huge once decoded. */
function bombPng(width: number, height: number): Buffer {
  const chunk = (type: string, data: Buffer) => {
    const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
    const length = Buffer.alloc(4);
    length.writeUInt32BE(data.length);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(body));
    return Buffer.concat([length, body, crc]);
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = 8; // bit depth
  header[9] = 0; // greyscale
  const rows = deflateSync(Buffer.alloc(1 + width)); // one row; the rest is "compressed away"
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', header), chunk('IDAT', rows), chunk('IEND', Buffer.alloc(0))]);
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'verify-'));
  const noise = Buffer.from(Array.from({ length: 96 * 96 * 3 }, (_, i) => (i * 7919) % 251));
  const raw = { raw: { width: 96, height: 96, channels: 3 as const } };
  files.goodJpeg = join(dir, 'good.jpg');
  files.goodPng = join(dir, 'good.png');
  await sharp(noise, raw).jpeg().toFile(files.goodJpeg);
  await sharp(noise, raw).png().toFile(files.goodPng);
  files.truncatedPng = join(dir, 'truncated.png');
  files.truncatedJpeg = join(dir, 'truncated.jpg');
  const png = readFileSync(files.goodPng);
  const jpeg = readFileSync(files.goodJpeg);
  writeFileSync(files.truncatedPng, png.subarray(0, Math.floor(png.length * 0.6)));
  writeFileSync(files.truncatedJpeg, jpeg.subarray(0, Math.floor(jpeg.length * 0.6)));
  files.empty = join(dir, 'empty.png');
  writeFileSync(files.empty, '');
  files.text = join(dir, 'notes.jpg');
  writeFileSync(files.text, 'these are my holiday notes, not a picture\n');
  files.bomb = join(dir, 'bomb.png');
  writeFileSync(files.bomb, bombPng(30_000, 30_000));
  files.missing = join(dir, 'gone.jpg');
});

function context(signal = new AbortController().signal): { ctx: EngineContext<VerifyImagesProgressData>; progress: EngineProgress[]; streamed: VerifyImagesProgressData[] } {
  const progress: EngineProgress[] = [];
  const streamed: VerifyImagesProgressData[] = [];
  return { ctx: { signal, progress: (p) => progress.push(p), emit: (event) => streamed.push(event), log: () => undefined }, progress, streamed };
}

describe('data.verifyImages', () => {
  it('names every bad image with its reason, and passes good ones', async () => {
    const images = Object.entries(files).map(([id, file]) => ({ id, file }));
    const { ctx, progress, streamed } = context();
    const result = await dataEngineHandlers['data.verifyImages']({ images }, ctx);
    expect(result.checked).toBe(images.length);
    const reasons = Object.fromEntries(result.bad.map((bad: BadImage) => [bad.id, `${bad.kind}: ${bad.reason}`]));
    expect(Object.keys(reasons).sort()).toEqual(['bomb', 'empty', 'missing', 'text', 'truncatedJpeg', 'truncatedPng']);
    expect(reasons.truncatedPng).toMatch(/^unreadable-image: truncated/);
    expect(reasons.truncatedJpeg).toMatch(/^unreadable-image: truncated/);
    expect(reasons.empty).toBe('unreadable-image: empty file (0 bytes)');
    expect(reasons.text).toBe('unreadable-image: not an image (its contents are not a supported image format)');
    expect(reasons.bomb).toBe('unreadable-image: 30000×30000 pixels, over the 100-megapixel limit (a decompression bomb?)');
    expect(reasons.missing).toBe('missing-image: file not found');
    // In input order, whatever order the decodes finished in.
    expect(result.bad.map((bad: BadImage) => bad.id)).toEqual(images.map((image) => image.id).filter((id) => id in reasons));
    // Progress and the typed stream after every image.
    expect(progress).toHaveLength(images.length);
    expect(progress.at(-1)).toMatchObject({ stage: 'verifying images', done: images.length, total: images.length });
    expect(streamed).toHaveLength(images.length);
    expect(streamed.at(-1)).toMatchObject({ done: images.length, total: images.length, bad: 6 });

    const report = withBadImages({ counts: { 'missing-image': 1 }, examples: [] }, result.bad);
    expect(report.counts).toEqual({ 'missing-image': 2, 'unreadable-image': 5 });
    expect(report.examples.map((example) => example.image)).toEqual(result.bad.map((bad: BadImage) => bad.id));
    expect(report.examples[0]!.message).toContain(files.truncatedPng);
  });

  it('stops when cancelled', async () => {
    const images = Array.from({ length: 200 }, (_, i) => ({ id: `img${i}`, file: files.goodJpeg! }));
    const controller = new AbortController();
    const { ctx, progress } = context(controller.signal);
    const call = dataEngineHandlers['data.verifyImages']({ images }, { ...ctx, progress: (p) => (progress.push(p), p.done === 10 && controller.abort()) });
    await expect(call).rejects.toMatchObject({ code: 'cancelled' });
    expect(progress.length).toBeLessThan(200);
  });
});
