import { z } from 'zod';
import { none, returns } from './spec';

import { DATASET_FORMATS, SPLIT_NAMES, type BrowsePage, type CreateShapesResult, type DatasetStats, type DatasetImported, type DatasetSummary, type GroundedScore, type ImageDetail } from '../datasetsTypes';

// ─── datasets ────────────────────────────────────────────────────────────────

export const datasetId = z.number().int().min(1);
export const fsPath = z.string().trim().min(1).max(4096);
export const datasetFormat = z.enum(DATASET_FORMATS);
export const shapesOptions = {
  images: z.number().int().min(1).max(200_000).default(2000),
  seed: z.number().int().min(0).max(2 ** 31 - 1).default(1),
  imageSize: z.number().int().min(32).max(512).default(128),
  format: z.enum(['png', 'jpeg']).default('png'),
  maxObjects: z.number().int().min(1).max(3).default(3),
  textures: z.boolean().default(true),
};

export const datasetMethods = {
  'datasets.import': returns<DatasetImported>()(
    z
      .object({
        path: fsPath.describe('A dataset folder or annotation file.'),
        format: datasetFormat.optional().describe('Detected when left out.'),
        name: z.string().trim().min(1).max(200).optional(),
        imagesDir: fsPath.optional().describe('The image folder, when it is not where the format puts it.'),
        verify: z.boolean().default(true).describe('Decode every image in an import task afterwards, listing each unreadable one in the problems.'),
      })
      .strict(),
    'Read a dataset (format detected), register it, open its image folder to the UI, and queue the decode of every image. Importing a path again refreshes it.',
  ),
  'datasets.list': returns<DatasetSummary[]>()(none, 'Registered datasets, newest first.'),
  'datasets.remove': returns<{ removed: boolean }>()(
    z.object({ datasetId }).strict(),
    'Forget a dataset (its files stay on disk; runs keep their rows).',
  ),
  'datasets.stats': returns<DatasetStats>()(
    z
      .object({
        datasetId: datasetId.optional(),
        path: fsPath.optional(),
        format: datasetFormat.optional(),
        imagesDir: fsPath.optional(),
        minCount: z.number().int().min(1).max(1000).default(5),
        topWords: z.number().int().min(0).max(500).default(25),
      })
      .strict()
      .refine((r) => (r.datasetId === undefined) !== (r.path === undefined), { message: 'Give either datasetId or path.' }),
    'Counts per split, caption lengths, vocabulary size at minCount, top words and problems of a registered dataset or of any path.',
  ),
  'datasets.browse': returns<BrowsePage>()(
    z
      .object({
        datasetId,
        offset: z.number().int().min(0).default(0),
        limit: z.number().int().min(1).max(500).default(50),
        search: z.string().max(200).optional(),
        split: z.enum([...SPLIT_NAMES, 'none']).optional(),
      })
      .strict(),
    'A page of images with their captions; filter by words in the captions and by split.',
  ),
  'datasets.image': returns<ImageDetail>()(
    z.object({ datasetId, imageId: z.string().min(1).max(4096) }).strict(),
    'One image: size, format, captions and their tokens, and the scene for Shapes images.',
  ),
  'datasets.synth': returns<{ taskId: number }>()(
    z
      .object({ out: fsPath.describe('Folder to write the Shapes dataset into.'), ...shapesOptions, register: z.boolean().default(false) })
      .strict(),
    'Generate a Shapes dataset as a task (follow task.progress; its result is a SynthResult).',
  ),
  'datasets.createShapes': returns<CreateShapesResult>()(
    z.object({ images: shapesOptions.images, seed: shapesOptions.seed }).strict(),
    'Generate the Shapes benchmark into the data folder and register it (first start); returns at once when it exists.',
  ),
  'datasets.groundedScore': returns<GroundedScore>()(
    z
      .object({
        scenes: fsPath.describe('A Shapes dataset folder or its scenes.json.'),
        captions: z
          .record(z.string().min(1).max(4096), z.string().max(2000))
          .refine((r) => Object.keys(r).length <= 200_000, { message: 'At most 200000 captions.' })
          .describe('Generated captions: image file name (or id) → caption.'),
      })
      .strict(),
    'How often generated captions state colours, shapes, sizes, counts, relations, positions and background correctly.',
  ),
} as const;

