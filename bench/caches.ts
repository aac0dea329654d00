/**
 * `npm run bench -- caches [--images N] [--batch B]`: how fast training can
 * read from the datasets module's caches. Builds a pixel cache (128x128
 * Shapes images) and a feature cache shaped like MobileNetV2's output
 * (1280-d pooled, 7x7x1280 grid, float16), then reads random batches.
 * One JSON line per measurement.
 */
import * as tf from '@tensorflow/tfjs';
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { drawFlips } from '../src/main/lib/data/images/augment';
import { createRng } from '../src/main/lib/data/random';
import { readDataset } from '../src/main/lib/data/readers';
import { synthesizeShapes } from '../src/main/lib/data/shapes/synth';
import type { EncodedBatch, EncoderSpec, FeatureEncoder } from '../src/main/ml/features/encoder';
import { openFeatureStore } from '../src/main/ml/features/featureStore';
import { openImageStore } from '../src/main/ml/features/imageStore';

/** Stands in for a frozen backbone: right shapes, negligible compute, so the bench measures the cache. */
class ShapedEncoder implements FeatureEncoder {
  readonly spec: EncoderSpec = { id: 'bench-shaped', inputSize: 64, normalization: 'imagenet', pooledDim: 1280, gridShape: [7, 7, 1280] };
  weightsHash(): string {
    return 'bench';
  }
  encode(images: tf.Tensor4D): EncodedBatch {
    const n = images.shape[0];
    return tf.tidy(() => ({ pooled: tf.randomUniform([n, 1280]) as tf.Tensor2D, grid: tf.randomUniform([n, 49, 1280]) as tf.Tensor3D }));
  }
}

const line = (value: object) => process.stdout.write(`${JSON.stringify({ bench: 'caches', cores: availableParallelism(), ...value })}\n`);

export async function run(args: string[]): Promise<void> {
  const { values } = parseArgs({ args, options: { images: { type: 'string', default: '600' }, batch: { type: 'string', default: '32' } } });
  const count = Number(values.images);
  const batch = Number(values.batch);
  const dir = mkdtempSync(join(tmpdir(), 'captioner-bench-caches-'));
  try {
    await tf.setBackend('cpu');
    await synthesizeShapes({ out: join(dir, 'shapes'), images: count, seed: 1 });
    const dataset = await readDataset(join(dir, 'shapes'));
    const imageSet = { name: 'bench-shapes', images: dataset.images.map((image) => ({ id: image.id, file: image.file })) };
    const ids = imageSet.images.map((image) => image.id);
    const rng = createRng(1);
    const batches = Array.from({ length: 200 }, () => Array.from({ length: batch }, () => rng.pick(ids)));

    let started = Date.now();
    const pixels = await openImageStore({ cacheRoot: join(dir, 'cache'), imageSet, size: 128 });
    line({ what: 'pixel cache build', images: count, size: 128, seconds: (Date.now() - started) / 1000, imagesPerSecond: Math.round(count / ((Date.now() - started) / 1000)) });
    started = Date.now();
    for (const b of batches) pixels.store.batch(b, 'imagenet', { horizontal: drawFlips(b.length, { flipProbability: 0.5 }, rng) });
    let seconds = (Date.now() - started) / 1000;
    line({ what: 'pixel cache read (normalize + flip)', batch, batches: batches.length, seconds, imagesPerSecond: Math.round((batches.length * batch) / seconds) });
    pixels.store.close();

    for (const dtype of ['float16', 'float32'] as const) {
      started = Date.now();
      const features = await openFeatureStore({ cacheRoot: join(dir, 'cache'), imageSet, encoder: new ShapedEncoder(), dtype });
      line({ what: `feature cache build (1280 + 7x7x1280, ${dtype}; encoder cost excluded)`, images: count, seconds: (Date.now() - started) / 1000 });
      started = Date.now();
      for (const b of batches) features.store.table(b, { grid: true });
      seconds = (Date.now() - started) / 1000;
      line({ what: `feature cache read (pooled + grid, ${dtype})`, batch, batches: batches.length, seconds, imagesPerSecond: Math.round((batches.length * batch) / seconds) });
      started = Date.now();
      for (const b of batches) features.store.table(b);
      seconds = (Date.now() - started) / 1000;
      line({ what: `feature cache read (pooled only, ${dtype})`, batch, batches: batches.length, seconds, imagesPerSecond: Math.round((batches.length * batch) / seconds) });
      features.store.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
