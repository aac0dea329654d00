import { z } from 'zod';
import { none, returns } from './spec';

import { EVAL_SPLITS, type EvaluationDetail, type ModelCaptions, type ModelPackageInfo, type ScoreReport } from '../inferenceTypes';

import { type EvaluationRecord } from '../storeTypes';

// ─── inference, evaluation, model packages ───────────────────────────────────

export const inferenceFilePath = z.string().min(1).max(4096);

/** Decoding settings a request may set; the rest come from the defaults and the model's maximum caption length. */
export const decodingSettings = z
  .object({
    strategy: z.enum(['greedy', 'beam', 'sample']).optional(),
    beamWidth: z.number().int().min(1).max(20).optional(),
    lengthPenalty: z.number().min(0).max(3).optional(),
    minLength: z.number().int().min(0).max(50).optional(),
    maxLength: z.number().int().min(1).max(100).optional(),
    noRepeatNgramSize: z.number().int().min(0).max(6).optional(),
    mirrorConsensus: z.boolean().optional(),
    converseConsensus: z.boolean().optional(),
    relationSearch: z.boolean().optional(),
    temperature: z.number().min(0.05).max(5).optional(),
    topK: z.number().int().min(0).max(100_000).optional(),
    topP: z.number().min(0.01).max(1).optional(),
    seed: z.number().int().min(0).max(2_147_483_647).optional(),
  })
  .strict()
  .default({});

export const checkpointChoice = z.union([z.literal('best'), z.literal('last'), z.number().int().min(0).max(100_000)]).default('best');

export const inferenceMethods = {
  'eval.score': returns<ScoreReport>()(
    z
      .object({
        refs: inferenceFilePath.describe('Reference captions: COCO annotations JSON or a Karpathy split JSON.'),
        results: inferenceFilePath.describe('Candidate captions in the COCO results format: [{"image_id", "caption"}].'),
        perImage: z.boolean().default(false),
      })
      .strict(),
    'Score a COCO results file against references with BLEU-1..4, ROUGE-L and CIDEr-D (coco-caption definitions).',
  ),
  'eval.start': returns<{ taskId: number }>()(
    z
      .object({
        runId: z.number().int().min(1),
        checkpoint: checkpointChoice,
        split: z.enum(EVAL_SPLITS).default('test'),
        /** Another dataset to evaluate on; default: the run's own. */
        dataset: inferenceFilePath.optional(),
        decoding: decodingSettings,
        /** Only the first N images of the split (0 = all). */
        limit: z.number().int().min(0).max(10_000_000).default(0),
        batchSize: z.number().int().min(1).max(256).default(16),
      })
      .strict(),
    'Evaluate a checkpoint on a split as a task: captions, per-image and aggregate scores stored with the decoding and metric definitions, and a COCO results file.',
  ),
  'eval.get': returns<EvaluationDetail>()(
    z
      .object({
        evaluationId: z.number().int().min(1),
        limit: z.number().int().min(1).max(100_000).default(500),
        offset: z.number().int().min(0).default(0),
      })
      .strict(),
    'One evaluation: settings, aggregate scores, and a page of its images with captions, references and scores.',
  ),
  'eval.list': returns<EvaluationRecord[]>()(
    z.object({ runId: z.number().int().min(1).optional() }).strict(),
    'Evaluations, newest first; runId narrows to one run.',
  ),
  'models.export': returns<ModelPackageInfo>()(
    z
      .object({
        runId: z.number().int().min(1),
        checkpoint: checkpointChoice,
        /** Absolute path of the package folder to write. */
        out: inferenceFilePath,
        name: z.string().trim().min(1).max(200).optional(),
        /** Default decoding written into the package. */
        decoding: decodingSettings,
        overwrite: z.boolean().default(false),
      })
      .strict(),
    'Export a checkpoint as a self-contained model package (tfjs weights, vocab.json, config.json, metrics, README, caption.mjs).',
  ),
  'models.import': returns<ModelPackageInfo>()(
    z
      .object({
        path: inferenceFilePath,
        name: z
          .string()
          .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/, 'letters, digits, ".", "_" and "-" only')
          .optional(),
        overwrite: z.boolean().default(false),
      })
      .strict(),
    'Import a model package into the workbench (checked by loading it), under its name or the one given.',
  ),
  'models.list': returns<ModelPackageInfo[]>()(none, 'Imported model packages, by name.'),
  'models.caption': returns<ModelCaptions>()(
    z
      .object({
        /** An imported model's name, or a package folder. */
        model: z.string().min(1).max(4096),
        images: z.array(inferenceFilePath).min(1).max(1000),
        decoding: decodingSettings,
        batchSize: z.number().int().min(1).max(256).default(16),
      })
      .strict(),
    'Caption image files with a model package (its default decoding unless overridden); unreadable images get an error each.',
  ),
} as const;

