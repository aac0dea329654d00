import * as tf from '@tensorflow/tfjs';
import { existsSync, readdirSync, truncateSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ApiError } from '../../src/shared/errors';
import { initBackend } from '../../src/main/ml/backend';
import type { EncodedBatch, EncoderSpec, FeatureEncoder } from '../../src/main/ml/features/encoder';
import { featureCacheDir, openFeatureStore } from '../../src/main/ml/features/featureStore';
import { decodeFloat16, encodeFloat16, fromFloat16Bits, toFloat16Bits } from '../../src/main/ml/features/float16';
import { openImageStore } from '../../src/main/ml/features/imageStore';
import type { ImageSet } from '../../src/main/ml/features/imageSet';
import { tempDir, write, writeImage } from '../helpers/datasetFixtures';

/** A tiny frozen encoder made of tfjs ops: 2x2 average grid, pooled = mean colour. */
class TinyEncoder implements FeatureEncoder {
  readonly spec: EncoderSpec = { id: 'tiny', inputSize: 8, normalization: 'zero-to-one', pooledDim: 3, gridShape: [2, 2, 3] };
  hash = 'weights-v1';
  encoded = 0;
  weightsHash(): string {
    return this.hash;
  }
  encode(images: tf.Tensor4D): EncodedBatch {
    this.encoded += images.shape[0];
    return tf.tidy(() => {
      const cells = tf.avgPool(images, 4, 4, 'valid');
      return { pooled: tf.mean(cells, [1, 2]) as tf.Tensor2D, grid: tf.reshape(cells, [images.shape[0], 4, 3]) as tf.Tensor3D };
    });
  }
}

const COLORS = ['#ff0000', '#00ff00', '#0000ff', '#808080', '#ffffff', '#000000', '#ff8000'];
const rgb = (hex: string) => [1, 3, 5].map((k) => parseInt(hex.slice(k, k + 2), 16) / 255);

let dir: string;
let cleanup: () => void;
let imageSet: ImageSet;

beforeAll(async () => {
  await initBackend({ CAPTIONER_BACKEND: 'cpu' });
});

beforeEach(async () => {
  ({ dir, cleanup } = tempDir('captioner-cache-'));
  const images = [];
  for (const [i, color] of COLORS.entries()) {
    const file = await writeImage(join(dir, 'img', `${i}.png`), 'png', { width: 16, height: 16, color });
    images.push({ id: `img${i}`, file });
  }
  imageSet = { name: 'fixture', images };
});
afterEach(() => cleanup());

const cacheRoot = () => join(dir, 'cache');

describe('feature cache', () => {
  it('builds once, then hits, and returns the encoder output per image id', async () => {
    const encoder = new TinyEncoder();
    const first = await openFeatureStore({ cacheRoot: cacheRoot(), imageSet, encoder, batchSize: 3 });
    expect(first.status).toBe('built');
    expect(encoder.encoded).toBe(7);
    first.store.close();

    const second = await openFeatureStore({ cacheRoot: cacheRoot(), imageSet, encoder, batchSize: 3 });
    expect(second.status).toBe('hit');
    expect(encoder.encoded).toBe(7);
    const { store } = second;
    const table = store.table(['img2', 'img0'], { grid: true });
    expect(table.count).toBe(2);
    // The marker square in the top-left quarter is white; the rest is the image colour.
    const expectedMean = (hex: string) => rgb(hex).map((v) => (3 * v + 1) / 4);
    [...expectedMean('#0000ff'), ...expectedMean('#ff0000')].forEach((v, i) => expect(table.pooled[i]).toBeCloseTo(v, 2));
    expect(table.grid).toHaveLength(2 * 4 * 3);
    // Grid cell 0 (top left) is the white marker, cell 3 (bottom right) the image colour; resampling blurs edges slightly.
    const grid = table.grid as Float32Array;
    [1, 1, 1].forEach((v, i) => expect(Math.abs((grid[i] as number) - v)).toBeLessThan(0.05));
    [0, 0, 1].forEach((v, i) => expect(Math.abs((grid[9 + i] as number) - v)).toBeLessThan(0.05));
    store.close();
  });

  it('is stale and rebuilt when the weights change, or an image changes', async () => {
    const encoder = new TinyEncoder();
    (await openFeatureStore({ cacheRoot: cacheRoot(), imageSet, encoder })).store.close();
    encoder.hash = 'weights-v2';
    const rebuilt = await openFeatureStore({ cacheRoot: cacheRoot(), imageSet, encoder });
    expect(rebuilt.status).toBe('rebuilt-stale');
    expect(encoder.encoded).toBe(14);
    rebuilt.store.close();

    await new Promise((resolve) => setTimeout(resolve, 20));
    await writeImage(imageSet.images[0]!.file, 'png', { width: 16, height: 16, color: '#00ff00' });
    const again = await openFeatureStore({ cacheRoot: cacheRoot(), imageSet, encoder });
    expect(again.status).toBe('rebuilt-stale');
    expect(again.store.pooled(['img0'])[1]).toBeCloseTo(1, 2);
    again.store.close();
    // One folder per (set, encoder, size, ...): the stale cache was replaced, not kept beside.
    expect(readdirSync(join(cacheRoot(), 'features'))).toHaveLength(1);
  });

  it('rebuilds a damaged cache', async () => {
    const encoder = new TinyEncoder();
    const { store } = await openFeatureStore({ cacheRoot: cacheRoot(), imageSet, encoder });
    store.close();
    truncateSync(join(featureCacheDir({ cacheRoot: cacheRoot(), imageSet, encoder }), 'grid.float16.bin'), 10);
    const reopened = await openFeatureStore({ cacheRoot: cacheRoot(), imageSet, encoder });
    expect(reopened.status).toBe('rebuilt-damaged');
    expect(reopened.store.grid(['img6'])).toHaveLength(12);
    reopened.store.close();
  });

  it('lists images that fail to decode and leaves them out', async () => {
    write(imageSet.images[3]!.file, 'not an image');
    const { store } = await openFeatureStore({ cacheRoot: cacheRoot(), imageSet, encoder: new TinyEncoder() });
    expect(store.failed.map((f) => [f.id, f.reason])).toEqual([['img3', 'not-an-image']]);
    expect(store.has('img3')).toBe(false);
    expect(store.ids).toEqual(['img0', 'img1', 'img2', 'img4', 'img5', 'img6']);
    expect(() => store.pooled(['img3'])).toThrow(/img3/);
    store.close();
  });

  it('reports progress, cancels cleanly, and resumes where it stopped', async () => {
    const encoder = new TinyEncoder();
    const controller = new AbortController();
    const seen: number[] = [];
    const cancelled = await openFeatureStore({
      cacheRoot: cacheRoot(),
      imageSet,
      encoder,
      batchSize: 2,
      signal: controller.signal,
      onProgress: (p) => {
        seen.push(p.done);
        if (p.done >= 4) controller.abort();
      },
    }).catch((e: unknown) => e);
    expect(cancelled).toBeInstanceOf(ApiError);
    expect((cancelled as ApiError).code).toBe('cancelled');
    expect(seen).toEqual([2, 4]);
    const encodedBefore = encoder.encoded;

    const resumed = await openFeatureStore({ cacheRoot: cacheRoot(), imageSet, encoder, batchSize: 2 });
    expect(resumed.status).toBe('resumed');
    expect(encoder.encoded - encodedBefore).toBe(3);
    const fresh = new TinyEncoder();
    const reference = await openFeatureStore({ cacheRoot: join(dir, 'other-cache'), imageSet, encoder: fresh });
    const all = imageSet.images.map((image) => image.id);
    expect(resumed.store.table(all, { grid: true })).toEqual(reference.store.table(all, { grid: true }));
    resumed.store.close();
    reference.store.close();
  });

  it('leaves no tensors behind when building, and batches read into tensors stay flat', async () => {
    const encoder = new TinyEncoder();
    const before = tf.memory().numTensors;
    const { store } = await openFeatureStore({ cacheRoot: cacheRoot(), imageSet, encoder, batchSize: 2 });
    expect(tf.memory().numTensors).toBe(before);
    const counts: number[] = [];
    for (let step = 0; step < 4; step++) {
      tf.tidy(() => {
        const batch = store.table(['img1', 'img5', 'img6'], { grid: true });
        const pooled = tf.tensor2d(batch.pooled, [batch.count, store.pooledDim]);
        const grid = tf.tensor3d(batch.grid as Float32Array, [batch.count, store.gridRegions, store.gridChannels]);
        return tf.add(tf.sum(pooled), tf.sum(grid));
      }).dispose();
      counts.push(tf.memory().numTensors);
    }
    expect(new Set(counts)).toEqual(new Set([before]));
    store.close();
  });

  it('lets concurrent openers of one cache take turns: one builds, the other hits', async () => {
    const encoder = new TinyEncoder();
    const [a, b] = await Promise.all([
      openFeatureStore({ cacheRoot: cacheRoot(), imageSet, encoder, batchSize: 2 }),
      openFeatureStore({ cacheRoot: cacheRoot(), imageSet, encoder, batchSize: 2 }),
    ]);
    expect([a.status, b.status].sort()).toEqual(['built', 'hit']);
    expect(encoder.encoded).toBe(7);
    expect(b.store.table(['img6'])).toEqual(a.store.table(['img6']));
    a.store.close();
    b.store.close();
  });

  it('takes over a lock left by a process that no longer exists', async () => {
    const encoder = new TinyEncoder();
    const dir = featureCacheDir({ cacheRoot: cacheRoot(), imageSet, encoder });
    write(`${dir}.lock`, '999999999');
    const { store, status } = await openFeatureStore({ cacheRoot: cacheRoot(), imageSet, encoder });
    expect(status).toBe('built');
    expect(existsSync(`${dir}.lock`)).toBe(false);
    store.close();
  });

  it('stores float32 when asked and can skip the grid', async () => {
    const { store } = await openFeatureStore({ cacheRoot: cacheRoot(), imageSet, encoder: new TinyEncoder(), dtype: 'float32', grid: false });
    expect(store.gridRegions).toBe(0);
    expect(() => store.grid(['img0'])).toThrow(/without grids/);
    expect(store.pooled(['img4'])).toEqual(new Float32Array([1, 1, 1]));
    store.close();
  });
});

describe('pixel cache (ImageStore)', () => {
  it('decodes once, normalizes on the fly, flips on request', async () => {
    const built = await openImageStore({ cacheRoot: cacheRoot(), imageSet, size: 4 });
    expect(built.status).toBe('built');
    built.store.close();
    const { store, status } = await openImageStore({ cacheRoot: cacheRoot(), imageSet, size: 4 });
    expect(status).toBe('hit');
    const bytes = store.bytes(['img0']);
    expect([...bytes.subarray(0, 3)]).toEqual([255, 255, 255]);
    expect([...bytes.subarray(45, 48)]).toEqual([255, 0, 0]);
    const [plain, flipped] = [store.batch(['img0'], 'minus-one-to-one'), store.batch(['img0'], 'minus-one-to-one', { horizontal: [true] })];
    expect([...plain.subarray(0, 3)]).toEqual([1, 1, 1]);
    expect([...flipped.subarray(0, 3)]).toEqual([1, -1, -1]);
    expect([...flipped.subarray(9, 12)]).toEqual([1, 1, 1]);
    // Top to bottom, the top right pixel (red, as the left-right mirror shows) lands bottom right; both ways, the corners trade places.
    const upsideDown = store.batch(['img0'], 'minus-one-to-one', { vertical: [true] });
    expect([...upsideDown.subarray(45, 48)]).toEqual([...flipped.subarray(0, 3)]);
    const both = store.batch(['img0'], 'minus-one-to-one', { horizontal: [true], vertical: [true] });
    expect([...both.subarray(0, 3)]).toEqual([1, -1, -1]);
    expect([...both.subarray(45, 48)]).toEqual([1, 1, 1]);
    expect(store.rows(['img1', 'img2'])).toMatchObject({ size: 4, count: 2 });
    store.close();
  });

  it('is stale when an image changes', async () => {
    (await openImageStore({ cacheRoot: cacheRoot(), imageSet, size: 4 })).store.close();
    await new Promise((resolve) => setTimeout(resolve, 20));
    await writeImage(imageSet.images[1]!.file, 'png', { width: 16, height: 16, color: '#ff00ff' });
    const { store, status } = await openImageStore({ cacheRoot: cacheRoot(), imageSet, size: 4 });
    expect(status).toBe('rebuilt-stale');
    expect([...store.bytes(['img1']).subarray(45, 48)]).toEqual([255, 0, 255]);
    store.close();
  });
});

describe('float16', () => {
  it('encodes exactly representable values exactly, and others within half precision', () => {
    expect(toFloat16Bits(1)).toBe(0x3c00);
    expect(toFloat16Bits(-2)).toBe(0xc000);
    expect(toFloat16Bits(65504)).toBe(0x7bff);
    expect(toFloat16Bits(1e6)).toBe(0x7c00);
    expect(toFloat16Bits(2 ** -24)).toBe(1);
    expect(fromFloat16Bits(toFloat16Bits(0.1))).toBeCloseTo(0.1, 4);
    expect(Number.isNaN(fromFloat16Bits(toFloat16Bits(NaN)))).toBe(true);
    const values = Float32Array.from({ length: 1000 }, (_, i) => Math.sin(i) * 50);
    const back = decodeFloat16(encodeFloat16(values));
    values.forEach((v, i) => expect(Math.abs((back[i] as number) - v)).toBeLessThanOrEqual(Math.abs(v) * 2 ** -11 + 1e-7));
  });
});
