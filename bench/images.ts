/**
 * `npm run bench -- images [--images N] [--size S] [--fit squash|center-crop]`:
 * decode + resize + normalize throughput for 500x375 JPEGs (Flickr8k's
 * typical size) to SxS float32, at several concurrency levels. One JSON
 * line per setting.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { loadImageBatch } from '../src/main/lib/data/images/loader';
import { createRng } from '../src/main/lib/data/random';

/** Photo-like JPEGs: smoothed noise compresses like natural images (about 40-60 KB each). */
async function makeJpegs(dir: string, count: number): Promise<string[]> {
  const rng = createRng('bench-images');
  const files: string[] = [];
  for (let i = 0; i < count; i++) {
    const raw = Buffer.alloc(500 * 375 * 3);
    for (let j = 0; j < raw.length; j++) raw[j] = rng.int(256);
    const jpeg = await sharp(raw, { raw: { width: 500, height: 375, channels: 3 } }).blur(2).jpeg({ quality: 90 }).toBuffer();
    const file = join(dir, `img${i}.jpg`);
    writeFileSync(file, jpeg);
    files.push(file);
  }
  return files;
}

export async function run(args: string[]): Promise<void> {
  const { values } = parseArgs({ args, options: { images: { type: 'string', default: '256' }, size: { type: 'string', default: '224' }, fit: { type: 'string', default: 'squash' }, batch: { type: 'string', default: '32' } } });
  const count = Number(values.images);
  const size = Number(values.size);
  const batch = Number(values.batch);
  const fit = values.fit === 'center-crop' ? 'center-crop' : 'squash';
  const dir = mkdtempSync(join(tmpdir(), 'captioner-bench-images-'));
  try {
    const files = await makeJpegs(dir, count);
    await loadImageBatch(files.slice(0, 8), 'imagenet', { size, fit }); // warm up libvips
    const cores = availableParallelism();
    for (const concurrency of [1, 2, 4, 8]) {
      const start = process.hrtime.bigint();
      for (let i = 0; i < files.length; i += batch) {
        const result = await loadImageBatch(files.slice(i, i + batch), 'imagenet', { size, fit, concurrency });
        if (result.errors.length) throw new Error(result.errors[0]?.message);
      }
      const seconds = Number(process.hrtime.bigint() - start) / 1e9;
      process.stdout.write(
        `${JSON.stringify({
          bench: 'images',
          input: '500x375 jpeg',
          output: `${size}x${size}x3 float32 (imagenet)`,
          fit,
          images: files.length,
          batch,
          concurrency,
          seconds: Number(seconds.toFixed(3)),
          imagesPerSecond: Number((files.length / seconds).toFixed(1)),
          cores,
          cpu: cpus()[0]?.model ?? 'unknown',
          uvThreadpool: Number(process.env.UV_THREADPOOL_SIZE ?? 4),
        })}\n`,
      );
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
