/**
 * A tiny captioning dataset on disk for training tests: 16×16 PNGs of a
 * coloured shape on a grey background, captioned "a <colour> <shape>", in a
 * JSON Lines file with train/val splits.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';

const COLOURS: Record<string, [number, number, number]> = {
  red: [220, 30, 30],
  green: [30, 200, 30],
  blue: [30, 30, 220],
  yellow: [230, 220, 20],
};
const SHAPES = ['square', 'bar'] as const;

function draw(size: number, colour: [number, number, number], shape: (typeof SHAPES)[number], offset: number): Buffer {
  const pixels = Buffer.alloc(size * size * 3, 128);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const inside =
        shape === 'square'
          ? x >= 3 + offset && x < 11 + offset && y >= 3 && y < 11
          : x >= 1 && x < size - 1 && y >= 6 + offset && y < 9 + offset;
      if (inside) pixels.set(colour, (y * size + x) * 3);
    }
  }
  return pixels;
}

/** Writes the dataset under `dir` and returns the folder. `perCombination` images of each colour × shape (one per split goes to val). */
export async function writeTinyDataset(dir: string, perCombination = 3, size = 16): Promise<string> {
  mkdirSync(join(dir, 'images'), { recursive: true });
  const lines: string[] = [];
  for (const [name, colour] of Object.entries(COLOURS)) {
    for (const shape of SHAPES) {
      for (let i = 0; i < perCombination; i++) {
        const file = `images/${name}-${shape}-${i}.png`;
        await sharp(draw(size, colour, shape, i % 3), { raw: { width: size, height: size, channels: 3 } })
          .png()
          .toFile(join(dir, file));
        const split = i === perCombination - 1 ? 'val' : 'train';
        lines.push(JSON.stringify({ image: file, captions: [`a ${name} ${shape}`, `the ${shape} is ${name}`], split }));
      }
    }
  }
  writeFileSync(join(dir, 'captions.jsonl'), `${lines.join('\n')}\n`);
  return dir;
}
