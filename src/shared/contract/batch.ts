import { z } from 'zod';
import { event, returns } from './spec';
import { placementChoice } from './store';
import { checkpointChoice, decodingSettings, inferenceFilePath } from './inference';

import type { BatchItem, BatchItemsPage, BatchJobSummary, BatchOutputPaths, BatchPreview, BatchProgress } from '../batchTypes';

// ─── batch captioning ────────────────────────────────────────────────────────

const jobId = z.number().int().min(1);

export const batchInput = z
  .object({
    /** Absolute folder path (a server path in serve mode). */
    folder: inferenceFilePath,
    recursive: z.boolean().default(false),
    include: z.array(z.string().min(1).max(500)).max(50).default([]),
    exclude: z.array(z.string().min(1).max(500)).max(50).default([]),
  })
  .strict();

export const batchModelChoice = z.union([
  z.object({ package: z.string().min(1).max(4096).describe('An imported model name or a package folder.') }).strict(),
  z.object({ runId: z.number().int().min(1), checkpoint: checkpointChoice }).strict(),
]);

export const sidecarOptions = z
  .object({
    ext: z.string().min(1).max(32).default('.txt'),
    prefix: z.string().max(1000).default(''),
    suffix: z.string().max(1000).default(''),
    existing: z.enum(['skip', 'overwrite', 'append']).default('skip'),
  })
  .strict();

export const batchOutputs = z
  .object({
    sidecar: sidecarOptions.nullable().default(null),
    csv: inferenceFilePath.nullable().default(null),
    jsonl: inferenceFilePath.nullable().default(null),
    coco: inferenceFilePath.nullable().default(null),
  })
  .strict();

export const batchMethods = {
  'batch.create': returns<BatchJobSummary>()(
    z
      .object({
        input: batchInput,
        model: batchModelChoice,
        decoding: decodingSettings,
        outputs: batchOutputs,
        batchSize: z.number().int().min(1).max(256).default(16),
        shardSize: z.number().int().min(1).max(1_000_000).default(500),
        /** `workers`: only `captioner worker` processes sharing the store caption it. */
        placement: placementChoice.optional(),
      })
      .strict(),
    'Create a batch captioning job for a folder; its task is queued at once (follow it by taskId, progress as batch.progress).',
  ),
  'batch.resume': returns<{ jobId: number; taskId: number }>()(
    z.object({ jobId, placement: placementChoice.optional() }).strict(),
    'Resume a stopped, failed or crashed job: it captions exactly the images still missing; progress arrives as batch.progress.',
  ),
  'batch.stop': returns<{ stopping: boolean }>()(
    z.object({ jobId }).strict(),
    'Stop a running job after its current batch; it stays resumable.',
  ),
  'batch.list': returns<BatchJobSummary[]>()(z.object({}).strict(), 'Batch jobs, newest first, with status, counts and outputs.'),
  'batch.get': returns<BatchJobSummary>()(z.object({ jobId }).strict(), 'One batch job: options, status, counts and outputs.'),
  'batch.items': returns<BatchItemsPage>()(
    z
      .object({
        jobId,
        sort: z.enum(['path', 'confidence-asc', 'confidence-desc']).default('path'),
        search: z.string().max(500).default(''),
        failuresOnly: z.boolean().default(false),
        limit: z.number().int().min(1).max(10_000).default(200),
        offset: z.number().int().min(0).default(0),
      })
      .strict(),
    "A page of a job's images with captions, confidence and failures; sortable by confidence, filterable by text and failures.",
  ),
  'batch.edit': returns<BatchItem>()(
    z.object({ jobId, path: inferenceFilePath, caption: z.string().max(10_000).nullable() }).strict(),
    "Set the reviewed caption of an image (null restores the model's).",
  ),
  'batch.recaption': returns<BatchItem[]>()(
    z.object({ jobId, paths: z.array(inferenceFilePath).min(1).max(1000), decoding: decodingSettings }).strict(),
    'Caption chosen images of a job again with other decoding settings.',
  ),
  'batch.writeOutputs': returns<BatchOutputPaths>()(
    z.object({ jobId }).strict(),
    "Write the job's outputs (caption files, CSV, JSONL, COCO) with the reviewed captions.",
  ),
  'batch.preview': returns<BatchPreview>()(
    z
      .object({
        input: batchInput,
        model: batchModelChoice,
        decoding: decodingSettings,
        count: z.number().int().min(1).max(64).default(6),
        /** The job's caption-file options: under `skip`, images with a caption file are passed over (and listed as skipped), as the job would. */
        sidecar: sidecarOptions.nullable().default(null),
      })
      .strict(),
    'Caption the first few images of a folder that a job would caption (the skip policy passes over images with a caption file) before starting it.',
  ),
  'batch.delete': returns<{ deleted: true }>()(z.object({ jobId }).strict(), 'Delete a batch job and its stored results; the files it wrote stay.'),
} as const;

export const batchEvents = {
  'batch.progress': event<BatchProgress>('Progress of a running batch job: images done, images per second, ETA and counts.'),
  'batch.updated': event<BatchJobSummary>('A batch job was created, changed status or wrote its outputs.'),
  'batch.deleted': event<{ jobId: number }>('A batch job was deleted.'),
} as const;
