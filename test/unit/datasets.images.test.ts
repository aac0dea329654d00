import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { drawFlips, flipHorizontal, flipVertical } from '../../src/main/lib/data/images/augment';
import { decodeImage, ImageDecodeError, type DecodeOptions } from '../../src/main/lib/data/images/decode';
import { decodeImages, loadImageBatch } from '../../src/main/lib/data/images/loader';
import { denormalizePixels, IMAGENET_MEAN, IMAGENET_STD, normalizePixels } from '../../src/main/lib/data/images/normalize';
import { createRng } from '../../src/main/lib/data/random';
import { imageBuffer, tempDir, write, type ImageFormat } from '../helpers/datasetFixtures';

const opts = (size: number, fit: DecodeOptions['fit'] = 'squash', maxPixels = 10_000_000): DecodeOptions => ({ size, fit, maxPixels });
const pixel = (data: Uint8Array, size: number, x: number, y: number) => [...data.subarray((y * size + x) * 3, (y * size + x) * 3 + 3)];
const near = (a: number[], b: number[], tolerance = 12) => a.every((v, i) => Math.abs(v - (b[i] as number)) <= tolerance);

/** The CRC PNG chunks carry, so a test can forge a header. */
function crc32(bytes: Buffer): number {
  let crc = 0xffffffff;
  for (const byte of bytes) {
    crc ^= byte;
    for (let k = 0; k < 8; k++) crc = (crc >>> 1) ^ (0xedb88320 & -(crc & 1));
  }
  return (crc ^ 0xffffffff) >>> 0;
}

/** A tiny valid PNG whose header claims 50000 x 50000 pixels: decoding it naively would need 7.5 GB. */
async function pngBomb(): Promise<Buffer> {
  const png = Buffer.from(await sharp({ create: { width: 8, height: 8, channels: 3, background: '#000' } }).png().toBuffer());
  png.writeUInt32BE(50_000, 16);
  png.writeUInt32BE(50_000, 20);
  png.writeUInt32BE(crc32(png.subarray(12, 29)), 29);
  return png;
}

let dir: string;
let cleanup: () => void;
beforeAll(() => ({ dir, cleanup } = tempDir()));
afterAll(() => cleanup());

describe('decodeImage', () => {
  const formats: ImageFormat[] = ['jpeg', 'png', 'webp', 'gif', 'tiff', 'avif'];
  for (const format of formats) {
    it(`decodes ${format} to size x size x 3 RGB`, async () => {
      const file = write(join(dir, `img.${format}`), await imageBuffer(format, { width: 40, height: 30, color: '#3366cc' }));
      const { data, size } = await decodeImage(file, opts(16));
      expect(size).toBe(16);
      expect(data.length).toBe(16 * 16 * 3);
      expect(near(pixel(data, 16, 15, 15), [0x33, 0x66, 0xcc], 24)).toBe(true);
      expect(near(pixel(data, 16, 0, 0), [255, 255, 255], 24)).toBe(true);
    });
  }

  it('applies EXIF orientation', async () => {
    const upright = await imageBuffer('jpeg', { width: 40, height: 30 });
    const rotated = await sharp(upright).withMetadata({ orientation: 6 }).jpeg().toBuffer();
    const plain = await decodeImage(upright, opts(20));
    const oriented = await decodeImage(rotated, opts(20));
    expect(near(pixel(plain.data, 20, 1, 1), [255, 255, 255])).toBe(true);
    // Orientation 6 turns the image 90° clockwise: the top-left marker ends up top-right.
    expect(near(pixel(oriented.data, 20, 18, 1), [255, 255, 255])).toBe(true);
    expect(near(pixel(oriented.data, 20, 1, 1), [255, 255, 255])).toBe(false);
  });

  it('turns grayscale, 16-bit, CMYK and alpha images into 8-bit sRGB', async () => {
    const gray = await sharp({ create: { width: 10, height: 10, channels: 3, background: '#808080' } }).toColourspace('b-w').png().toBuffer();
    expect(near(pixel((await decodeImage(gray, opts(4))).data, 4, 2, 2), [128, 128, 128])).toBe(true);

    const deep = await sharp({ create: { width: 10, height: 10, channels: 3, background: '#ff8000' } }).toColourspace('rgb16').png().toBuffer();
    expect((await sharp(deep).metadata()).depth).toBe('ushort');
    expect(near(pixel((await decodeImage(deep, opts(4))).data, 4, 2, 2), [255, 128, 0])).toBe(true);

    const cmyk = await sharp({ create: { width: 10, height: 10, channels: 3, background: '#ff0000' } }).toColourspace('cmyk').jpeg().toBuffer();
    expect((await sharp(cmyk).metadata()).space).toBe('cmyk');
    const red = pixel((await decodeImage(cmyk, opts(4))).data, 4, 2, 2);
    expect(red[0]).toBeGreaterThan(200);
    expect(red[1]).toBeLessThan(60);

    const clear = await sharp({ create: { width: 10, height: 10, channels: 4, background: { r: 0, g: 0, b: 0, alpha: 0 } } }).png().toBuffer();
    expect(pixel((await decodeImage(clear, opts(4))).data, 4, 1, 1)).toEqual([255, 255, 255]);
  });

  it('takes the first frame of an animated GIF', async () => {
    const frames = await sharp({ create: { width: 8, height: 16, channels: 3, background: '#00ff00' } }).gif().toBuffer();
    const animated = await sharp(frames, { animated: true }).gif({ loop: 0 }).toBuffer();
    const { data } = await decodeImage(animated, opts(8));
    expect(data.length).toBe(8 * 8 * 3);
  });

  it('center-crops or squashes', async () => {
    // 60x20: white left third, blue elsewhere. A center crop drops the white; a squash keeps it.
    const white = await sharp({ create: { width: 20, height: 20, channels: 3, background: '#ffffff' } }).png().toBuffer();
    const wide = await sharp({ create: { width: 60, height: 20, channels: 3, background: '#0000ff' } }).composite([{ input: white, left: 0, top: 0 }]).png().toBuffer();
    expect(near(pixel((await decodeImage(wide, opts(12, 'squash'))).data, 12, 0, 6), [255, 255, 255])).toBe(true);
    expect(near(pixel((await decodeImage(wide, opts(12, 'center-crop'))).data, 12, 0, 6), [0, 0, 255], 30)).toBe(true);
  });

  const failures: [string, () => Promise<string | Buffer>, string][] = [
    ['a truncated JPEG', async () => (await imageBuffer('jpeg', { width: 200, height: 150 })).subarray(0, 300), 'truncated'],
    ['a truncated PNG', async () => {
      const png = await sharp({ create: { width: 200, height: 150, channels: 3, background: '#123456' } }).composite([{ input: await imageBuffer('png', { width: 100, height: 50 }), left: 3, top: 7 }]).png({ compressionLevel: 0 }).toBuffer();
      return png.subarray(0, Math.floor(png.length / 2));
    }, 'truncated'],
    ['a decompression bomb', pngBomb, 'too-large'],
    ['a text file', async () => write(join(dir, 'notes.jpg'), 'just some words, not pixels'), 'not-an-image'],
    ['a missing file', async () => join(dir, 'nope.jpg'), 'not-found'],
  ];
  for (const [name, make, reason] of failures) {
    it(`turns ${name} into an item error (${reason})`, async () => {
      const input = await make();
      const error = await decodeImage(input, opts(16), 'item').catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ImageDecodeError);
      expect((error as ImageDecodeError).reason).toBe(reason);
    });
  }

  it('enforces the pixel cap on real images too', async () => {
    const big = await imageBuffer('png', { width: 300, height: 300 });
    await expect(decodeImage(big, opts(16, 'squash', 300 * 299))).rejects.toMatchObject({ reason: 'too-large' });
    await expect(decodeImage(big, opts(16, 'squash', 300 * 300))).resolves.toMatchObject({ size: 16 });
  });
});

describe('batches', () => {
  it('keeps order, reports failures per item and normalizes', async () => {
    const files = [
      write(join(dir, 'b0.png'), await imageBuffer('png', { color: '#ff0000' })),
      write(join(dir, 'b1.jpg'), (await imageBuffer('jpeg')).subarray(0, 100)),
      write(join(dir, 'b2.webp'), await imageBuffer('webp', { color: '#00ff00' })),
    ];
    const batch = await loadImageBatch(files, 'zero-to-one', { size: 8, concurrency: 3 });
    expect(batch.ok).toEqual([true, false, true]);
    expect(batch.errors.map((e) => [e.index, e.reason])).toEqual([[1, 'truncated']]);
    expect(batch.data.length).toBe(3 * 8 * 8 * 3);
    const at = (item: number, x: number, y: number) => [...batch.data.subarray(item * 192 + (y * 8 + x) * 3, item * 192 + (y * 8 + x) * 3 + 3)];
    expect(at(0, 7, 7).map((v) => Math.round(v * 10) / 10)).toEqual([1, 0, 0]);
    expect(at(1, 7, 7)).toEqual([0, 0, 0]);
    expect(at(2, 7, 7)[1]).toBeGreaterThan(0.9);
  });

  it('stops when cancelled', async () => {
    const file = write(join(dir, 'c.png'), await imageBuffer('png'));
    const controller = new AbortController();
    controller.abort(new Error('stop'));
    await expect(decodeImages([file, file], { size: 8, signal: controller.signal })).rejects.toThrow('stop');
  });
});

describe('normalization', () => {
  const bytes = new Uint8Array([0, 128, 255, 255, 0, 64]);
  it('maps bytes per encoder convention and back', () => {
    expect([...normalizePixels(bytes, 'minus-one-to-one')].map((v) => Number(v.toFixed(3)))).toEqual([-1, 0.004, 1, 1, -1, -0.498]);
    expect([...normalizePixels(bytes, 'zero-to-one')].map((v) => Number(v.toFixed(3)))).toEqual([0, 0.502, 1, 1, 0, 0.251]);
    const imagenet = normalizePixels(bytes, 'imagenet');
    expect(imagenet[0]).toBeCloseTo((0 - IMAGENET_MEAN[0]) / IMAGENET_STD[0], 5);
    expect(imagenet[2]).toBeCloseTo((1 - IMAGENET_MEAN[2]) / IMAGENET_STD[2], 5);
    for (const n of ['imagenet', 'minus-one-to-one', 'zero-to-one'] as const) expect([...denormalizePixels(normalizePixels(bytes, n), n)]).toEqual([...bytes]);
  });
});

describe('augmentation', () => {
  it('flips rows left to right and draws flips reproducibly', () => {
    const image = new Uint8Array([1, 1, 1, 2, 2, 2, 3, 3, 3, 4, 4, 4, 5, 5, 5, 6, 6, 6]);
    expect([...flipHorizontal(image, 3, 2)]).toEqual([3, 3, 3, 2, 2, 2, 1, 1, 1, 6, 6, 6, 5, 5, 5, 4, 4, 4]);
    expect(flipHorizontal(flipHorizontal(image, 3, 2), 3, 2)).toEqual(image);
    expect([...flipVertical(image, 3, 2)]).toEqual([4, 4, 4, 5, 5, 5, 6, 6, 6, 1, 1, 1, 2, 2, 2, 3, 3, 3]);
    expect(flipVertical(flipVertical(image, 3, 2), 3, 2)).toEqual(image);
    expect(() => flipVertical(image, 2, 2)).toThrow(/18 bytes is not 2x2x3/);
    expect(drawFlips(50, { flipProbability: 0.5 }, createRng(1))).toEqual(drawFlips(50, { flipProbability: 0.5 }, createRng(1)));
    expect(drawFlips(50, { flipProbability: 0 }, createRng(1)).some(Boolean)).toBe(false);
  });
});
