/**
 * The caption playground: upload an image (its bytes, so it works the same
 * from a desktop drop and a browser in serve mode), list the models one can
 * try (run checkpoints and imported packages), and caption one image with
 * several models at once, each with its confidence, beam alternatives and
 * per-word attention.
 */
import { z } from 'zod';
import { none, returns } from './spec';
import { decodingSettings } from './inference';
import type { CaptionExplanation } from '../galleryTypes';
import type { RunStatus } from '../storeTypes';
import type { ConsensusChoice } from '../consensusKinds';

// ─── limits ──────────────────────────────────────────────────────────────────

/** The largest image the playground accepts, in bytes (the WebSocket carries at most 16 MiB per message). */
export const MAX_UPLOAD_BYTES = 10 * 1024 * 1024;
/** Base64 characters for MAX_UPLOAD_BYTES. */
export const MAX_UPLOAD_BASE64 = 4 * Math.ceil(MAX_UPLOAD_BYTES / 3);
/** Models captioning one image side by side. */
export const MAX_PLAYGROUND_MODELS = 6;

// ─── answers ─────────────────────────────────────────────────────────────────

export interface UploadedImage {
  /** Absolute path under `<data dir>/uploads/`, servable as media. */
  path: string;
  /** The name the user's file had. */
  name: string;
  format: string;
  bytes: number;
  /** True when the same bytes were uploaded before (the file is reused). */
  existed: boolean;
}

export interface PlaygroundCheckpoint {
  runId: number;
  runName: string;
  status: RunStatus;
  checkpointId: number;
  epoch: number;
  step: number;
  isBest: boolean;
  /** Validation metrics when it was written. */
  metrics: Record<string, number>;
  /** The decoding its run's config recommends (the playground starts with it when this model is picked for you). */
  recommended: ConsensusChoice;
}

export interface PlaygroundPackage {
  name: string;
  variant: string;
  /** The package's own decoding, used unless the request overrides it. */
  strategy: string;
  evaluation: { split: string; aggregate: Record<string, number> } | null;
}

export interface PlaygroundModels {
  packages: PlaygroundPackage[];
  /** Best and latest checkpoint of each run that has any, newest runs first. */
  checkpoints: PlaygroundCheckpoint[];
}

export interface PlaygroundResult {
  model: PlaygroundModelRef;
  /** How the model is shown: package name, or run name with the checkpoint's epoch. */
  label: string;
  explanation: CaptionExplanation | null;
  /** Geometric mean of the chosen caption's word probabilities (exp of the mean log p), 0..1. */
  confidence: number | null;
  /** Why this model could not caption the image; the other models' results still come. */
  error: string | null;
}

export interface PlaygroundCaptions {
  image: string;
  results: PlaygroundResult[];
}

// ─── requests ────────────────────────────────────────────────────────────────

export const playgroundModelRef = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('package'), name: z.string().min(1).max(4096) }).strict(),
  z
    .object({
      kind: z.literal('checkpoint'),
      runId: z.number().int().min(1),
      checkpoint: z.union([z.literal('best'), z.literal('last'), z.number().int().min(0).max(100_000)]).default('best'),
    })
    .strict(),
]);
export type PlaygroundModelRef = z.output<typeof playgroundModelRef>;

export const playgroundMethods = {
  'playground.upload': returns<UploadedImage>()(
    z
      .object({
        /** The file's name as the user had it (only shown; the stored name is the content's hash). */
        name: z.string().trim().min(1).max(255),
        /** The file's bytes, base64-encoded (no data: prefix). */
        data: z
          .string()
          .min(4)
          .max(MAX_UPLOAD_BASE64, `images up to ${MAX_UPLOAD_BYTES / (1024 * 1024)} MiB`)
          .regex(/^[A-Za-z0-9+/]+={0,2}$/, 'base64 only'),
      })
      .strict(),
    'Store an image for the playground under the data directory (uploads/, content-addressed); PNG, JPEG, WebP, GIF, TIFF or AVIF.',
  ),
  'playground.models': returns<PlaygroundModels>()(none, 'Models the playground can use: imported packages and the best and latest checkpoint of each run.'),
  'playground.caption': returns<PlaygroundCaptions>()(
    z
      .object({
        /** An uploaded image, or any image under a folder the workbench opened. */
        image: z.string().min(1).max(4096),
        models: z.array(playgroundModelRef).min(1).max(MAX_PLAYGROUND_MODELS),
        decoding: decodingSettings,
        /** Captions per model: the chosen one and the beam's best others. */
        alternatives: z.number().int().min(1).max(10).default(5),
      })
      .strict(),
    'Caption one image with several models: each caption with its confidence, the beam alternatives and every word’s attention over the image.',
  ),
} as const;
