/**
 * `npm run bench -- shapes [--images N] [--size S] [--format png|jpeg]`:
 * how fast `captioner synth` writes a Shapes dataset (scenes, captions,
 * SVG rasterization, files). One JSON line.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { synthesizeShapes } from '../src/main/lib/data/shapes/synth';

export async function run(args: string[]): Promise<void> {
  const { values } = parseArgs({ args, options: { images: { type: 'string', default: '2000' }, size: { type: 'string', default: '128' }, format: { type: 'string', default: 'png' } } });
  const out = mkdtempSync(join(tmpdir(), 'captioner-bench-shapes-'));
  try {
    const result = await synthesizeShapes({ out, images: Number(values.images), imageSize: Number(values.size), format: values.format === 'jpeg' ? 'jpeg' : 'png', seed: 1 });
    process.stdout.write(
      `${JSON.stringify({
        bench: 'shapes',
        images: result.images,
        imageSize: Number(values.size),
        format: values.format,
        seconds: result.seconds,
        imagesPerSecond: Number((result.images / result.seconds).toFixed(1)),
        cores: availableParallelism(),
        cpu: cpus()[0]?.model ?? 'unknown',
      })}\n`,
    );
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}
