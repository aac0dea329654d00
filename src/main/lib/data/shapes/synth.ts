/**
 * `captioner synth`: writes a Shapes dataset to a folder.
 *
 *   OUT/Images/shapes_000000.png   the rendered scenes
 *   OUT/captions.txt               Flickr8k (Kaggle) style: image,caption
 *   OUT/dataset_shapes.json        Karpathy style, with train/val/test splits
 *   OUT/scenes.json                the ground truth of every image
 *
 * Deterministic for a seed: image i's scene and captions come from a PRNG
 * stream derived from (seed, i) alone, so the output does not depend on the
 * order images are rendered in, and the first N images of a larger set
 * equal a smaller set with the same seed.
 */
import { mkdir, rename, writeFile } from 'node:fs/promises';
import type { SynthResult as SharedSynthResult } from '../../../../shared/datasetsTypes';
import { ApiError } from '../../../../shared/errors';
import { join } from 'node:path';
import { mapConcurrent } from '../readers/imageFiles';
import type { SplitName } from '../readers/types';
import { createRng } from '../random';
import { seededSplit, type SplitFractions, DEFAULT_SPLIT_FRACTIONS } from '../text/splits';
import { tokenizeCaption } from '../text/tokenize';
import { CAPTIONS_PER_IMAGE, generateCaptions } from './grammar';
import { renderScene, type ShapesImageFormat } from './render';
import { DEFAULT_SCENE_OPTIONS, randomScene, type Scene, type SceneOptions } from './scene';

export const SHAPES_IMAGE_DIR = 'Images';
export const SHAPES_KARPATHY_FILE = 'dataset_shapes.json';
export const SHAPES_SCENES_FILE = 'scenes.json';
export const SHAPES_CAPTIONS_FILE = 'captions.txt';

export interface SynthOptions extends SceneOptions {
  out: string;
  images: number;
  seed: number;
  format: ShapesImageFormat;
  fractions: SplitFractions;
}

export const DEFAULT_SYNTH_OPTIONS: Omit<SynthOptions, 'out'> = {
  ...DEFAULT_SCENE_OPTIONS,
  images: 2000,
  seed: 1,
  format: 'png',
  fractions: DEFAULT_SPLIT_FRACTIONS,
};

export interface ShapesImage {
  filename: string;
  split: SplitName;
  captions: string[];
  scene: Scene;
}

/** scenes.json: the truth the grounded scorer checks captions against. */
export interface ScenesFile {
  format: 'captioner-shapes-scenes';
  version: 1;
  seed: number;
  options: Omit<SynthOptions, 'out'>;
  images: { filename: string; split: SplitName; scene: Scene }[];
}

export interface SynthProgress {
  done: number;
  total: number;
}

/** What synthesis writes; the API's SynthResult adds the registered dataset. */
export type SynthResult = Omit<SharedSynthResult, 'dataset'>;

export function shapesFilename(index: number, format: ShapesImageFormat): string {
  return `shapes_${String(index).padStart(6, '0')}.${format === 'png' ? 'png' : 'jpg'}`;
}

/** Scene and captions of image `index`, from (seed, index) alone. */
export function synthesizeItem(seed: number, index: number, options: SceneOptions = DEFAULT_SCENE_OPTIONS): { scene: Scene; captions: string[] } {
  const rng = createRng(seed).fork(`image-${index}`);
  const scene = randomScene(rng.fork('scene'), options);
  return { scene, captions: generateCaptions(scene, rng.fork('captions'), CAPTIONS_PER_IMAGE) };
}

export async function synthesizeShapes(
  options: Partial<Omit<SynthOptions, 'out'>> & { out: string },
  hooks: { onProgress?: (progress: SynthProgress) => void; signal?: AbortSignal; concurrency?: number } = {},
): Promise<SynthResult> {
  const full: SynthOptions = { ...DEFAULT_SYNTH_OPTIONS, ...options };
  if (!Number.isInteger(full.images) || full.images < 1) throw new RangeError(`images must be a positive integer (got ${full.images}).`);
  if (!Number.isInteger(full.imageSize) || full.imageSize < 32 || full.imageSize > 1024) throw new RangeError(`imageSize must be 32..1024 (got ${full.imageSize}).`);
  const started = Date.now();
  const imageDir = join(full.out, SHAPES_IMAGE_DIR);
  await mkdir(imageDir, { recursive: true });

  const items = Array.from({ length: full.images }, (_, index) => ({ index, filename: shapesFilename(index, full.format) }));
  const split = seededSplit(
    items.map((item) => ({ id: item.filename, file: item.filename, captions: [], split: null })),
    { seed: full.seed, fractions: full.fractions },
  );
  const splitOf = new Map<string, SplitName>();
  for (const name of ['train', 'val', 'test'] as const) for (const image of split[name]) splitOf.set(image.id, name);

  let done = 0;
  let lastReport = 0;
  const images = await mapConcurrent(items, hooks.concurrency ?? 8, async ({ index, filename }): Promise<ShapesImage> => {
    if (hooks.signal?.aborted) throw new ApiError('cancelled', `Shapes generation cancelled after ${done} of ${full.images} images; nothing was registered.`);
    const { scene, captions } = synthesizeItem(full.seed, index, full);
    await writeFile(join(imageDir, filename), await renderScene(scene, full.format));
    done += 1;
    if (hooks.onProgress && (done === full.images || Date.now() - lastReport > 200)) {
      lastReport = Date.now();
      hooks.onProgress({ done, total: full.images });
    }
    return { filename, split: splitOf.get(filename) as SplitName, captions, scene };
  });

  const { out: _out, ...recorded } = full;
  const files = {
    captions: join(full.out, SHAPES_CAPTIONS_FILE),
    karpathy: join(full.out, SHAPES_KARPATHY_FILE),
    scenes: join(full.out, SHAPES_SCENES_FILE),
    images: imageDir,
  };
  // Annotations are written last, each atomically, so a cancelled run never leaves a dataset that looks complete.
  const rows = images.flatMap((image) => image.captions.map((caption) => `${image.filename},${caption}`));
  await writeAtomic(files.captions, `image,caption\n${rows.join('\n')}\n`);
  let sentid = 0;
  const karpathy = {
    dataset: 'shapes',
    images: images.map((image, imgid) => ({
      filename: image.filename,
      imgid,
      split: image.split,
      sentids: image.captions.map((_, j) => sentid + j),
      sentences: image.captions.map((raw) => ({ raw, tokens: tokenizeCaption(raw), imgid, sentid: sentid++ })),
    })),
  };
  await writeAtomic(files.karpathy, JSON.stringify(karpathy));
  const scenes: ScenesFile = {
    format: 'captioner-shapes-scenes',
    version: 1,
    seed: full.seed,
    options: recorded,
    images: images.map(({ filename, split: s, scene }) => ({ filename, split: s, scene })),
  };
  await writeAtomic(files.scenes, JSON.stringify(scenes));

  return {
    out: full.out,
    images: images.length,
    captions: rows.length,
    splits: { train: split.train.length, val: split.val.length, test: split.test.length },
    seconds: (Date.now() - started) / 1000,
    files,
  };
}

async function writeAtomic(file: string, content: string): Promise<void> {
  const temp = `${file}.partial`;
  await writeFile(temp, content);
  await rename(temp, file);
}
