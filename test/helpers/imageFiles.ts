/** Small PNG files of seeded random pixels, for tests that caption real image files. */
import { join } from 'node:path';
import sharp from 'sharp';
import { Rng } from '../../src/main/ml/model/rng';

export async function randomImageFiles(dir: string, count = 3, size: { width: number; height: number } = { width: 24, height: 20 }, seed = 4): Promise<string[]> {
  const rng = new Rng(seed);
  const files: string[] = [];
  for (let i = 0; i < count; i++) {
    const pixels = Buffer.from(Uint8Array.from({ length: size.width * size.height * 3 }, () => Math.floor(rng.next() * 256)));
    const file = join(dir, `image-${i}.png`);
    await sharp(pixels, { raw: { width: size.width, height: size.height, channels: 3 } }).png().toFile(file);
    files.push(file);
  }
  return files;
}
