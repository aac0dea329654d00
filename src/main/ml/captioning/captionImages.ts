/**
 * Captions image files with an inference model, a batch at a time: images
 * decoded concurrently (sharp), one encoder forward pass and one batched
 * decode per batch. An image that cannot be read gets an error, never a
 * failed batch; cancellation is checked between batches.
 */
import type { DecodingSettings } from '../../../shared/inferenceTypes';
import { ApiError } from '../../../shared/errors';
import { decodeImages, type ItemError } from '../../lib/data/images/loader';
import { normalizePixels } from '../../lib/data/images/normalize';
import type { DecoderFeatures } from '../model/decoder';
import type { InferenceModel } from './model';
import { checkDecoding, decodeViews, disposeViews, encodeViews } from './views';

export interface CaptionedFile {
  file: string;
  /** Word ids, without <start> and <end>. */
  tokens: number[];
  caption: string | null;
  logProb: number | null;
  error: string | null;
}

export interface CaptionFilesOptions {
  batchSize?: number;
  signal?: AbortSignal;
  onBatch?(done: number, total: number): void;
}

export const DEFAULT_CAPTION_BATCH = 16;

export interface EncodedFiles {
  /** The encoder's features of the images that decoded, in order; null when none did. The caller disposes them. */
  features: DecoderFeatures | null;
  /** The same of those images mirrored left to right, when asked for (mirror consensus); else null. */
  mirrored: DecoderFeatures | null;
  /** Index in `files` of each row of `features`. */
  rows: number[];
  /** The files that could not be read, by index, with the reason. */
  errors: ItemError[];
}

/** Decodes image files as the model's preprocessing says and runs the encoder once over those that decoded (twice with `mirror`). */
export async function encodeImageFiles(model: InferenceModel, files: readonly string[], signal?: AbortSignal, mirror = false): Promise<EncodedFiles> {
  const { inputSize, fit, normalization, maxPixels } = model.preprocessing;
  const stride = inputSize * inputSize * 3;
  const { images, errors } = await decodeImages(files, { size: inputSize, fit, maxPixels, ...(signal ? { signal } : {}) });
  const ok = images.flatMap((pixels, index) => (pixels ? [{ pixels, index }] : []));
  if (ok.length === 0) return { features: null, mirrored: null, rows: [], errors };
  const input = new Float32Array(ok.length * stride);
  ok.forEach(({ pixels }, i) => normalizePixels(pixels, normalization, input, i * stride));
  const { features, mirrored } = encodeViews(model, input, ok.length, mirror);
  return { features, mirrored, rows: ok.map(({ index }) => index), errors };
}

export async function captionFiles(
  model: InferenceModel,
  files: readonly string[],
  settings: DecodingSettings,
  options: CaptionFilesOptions = {},
): Promise<CaptionedFile[]> {
  const batchSize = Math.max(1, options.batchSize ?? DEFAULT_CAPTION_BATCH);
  checkDecoding(model, settings);
  const out: CaptionedFile[] = [];
  for (let start = 0; start < files.length; start += batchSize) {
    if (options.signal?.aborted) throw new ApiError('cancelled', `Cancelled after ${start} of ${files.length} images.`);
    const batch = files.slice(start, start + batchSize);
    const { features, mirrored, rows, errors } = await encodeImageFiles(model, batch, options.signal, settings.mirrorConsensus === true);
    const results: CaptionedFile[] = batch.map((file) => ({ file, tokens: [], caption: null, logProb: null, error: null }));
    for (const error of errors) results[error.index]!.error = error.message;
    if (features) {
      try {
        const decoded = decodeViews(model, { features, mirrored }, settings);
        decoded.forEach((caption, i) => {
          const result = results[rows[i]!]!;
          result.tokens = caption.tokens;
          result.caption = model.vocabulary.decode(caption.tokens).join(' ');
          result.logProb = caption.logProb;
        });
      } finally {
        disposeViews({ features, mirrored });
      }
    }
    out.push(...results);
    options.onBatch?.(out.length, files.length);
    // Lets the engine read a cancel message between batches.
    await new Promise((resolve) => setImmediate(resolve));
  }
  return out;
}
