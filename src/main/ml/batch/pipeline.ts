/**
 * Batch captioning as a pipeline, not a loop: while the encoder and the
 * batched decoder work on one batch, sharp decodes and resizes the next ones
 * on libuv's thread pool (tfjs kernels run on the JavaScript thread or in
 * TensorFlow's own threads, so both make progress at once). Images arrive
 * from an async iterable, so a lazily listed folder of any size flows through
 * with a bounded number of batches in memory. Each stage is exported on its
 * own so the benchmark times exactly the code the pipeline runs.
 */
import type { DecodingSettings } from '../../../shared/inferenceTypes';
import { decodeImages } from '../../lib/data/images/loader';
import { normalizePixels } from '../../lib/data/images/normalize';
import type { InferenceModel } from '../captioning/model';
import { checkDecoding, decodeViews, disposeViews, encodeViews } from '../captioning/views';
import { decode } from '../infer/decode';
import type { DecodedCaption, DecodeOptions } from '../infer/types';
import type { DecoderFeatures } from '../model/decoder';

export interface PipelineImage {
  path: string;
  relativePath: string;
}

export interface PipelineCaption extends PipelineImage {
  caption: string | null;
  tokens: number[];
  logProb: number | null;
  /** Mean log-probability per generated token, the closing <end> included. */
  confidence: number | null;
  error: string | null;
}

/** A batch after decoding and resizing: normalized floats for the images that could be read. */
export interface PreparedBatch {
  images: PipelineImage[];
  /** [ok.length, size, size, 3], normalized for the encoder. */
  input: Float32Array;
  /** Indices into `images` of the rows of `input`. */
  ok: number[];
  /** Why each unreadable image failed, by index into `images`. */
  errors: Map<number, string>;
}

export interface PipelineOptions {
  batchSize: number;
  /** Batches decoded ahead of the model (default 2). */
  prefetch?: number;
  /**
   * Images of a batch handed to sharp at once (default: the whole batch).
   * libuv's thread pool bounds how many really decode in parallel; queuing
   * them all lets the pool work through the batch while the model holds the
   * JavaScript thread, instead of waiting for it to start the next image.
   */
  concurrency?: number;
  signal?: AbortSignal;
}

export function confidenceOf(caption: Pick<DecodedCaption, 'logProb' | 'tokenLogProbs'>): number {
  return caption.tokenLogProbs.length > 0 ? caption.logProb / caption.tokenLogProbs.length : caption.logProb;
}

/** Stage 1: decode and resize (sharp, concurrent), then normalize into one float array. */
export async function prepareBatch(model: InferenceModel, images: readonly PipelineImage[], concurrency = images.length): Promise<PreparedBatch> {
  const { inputSize, fit, normalization, maxPixels } = model.preprocessing;
  const decoded = await decodeImages(
    images.map((image) => image.path),
    { size: inputSize, fit, maxPixels, concurrency },
  );
  // The item already names its file, and the decoder's words name the reason: keep just those words.
  const errors = new Map(decoded.errors.map((error) => [error.index, error.message.startsWith(`${error.file}: `) ? error.message.slice(error.file.length + 2) : error.message]));
  const ok = decoded.images.flatMap((pixels, index) => (pixels ? [index] : []));
  const stride = inputSize * inputSize * 3;
  const input = new Float32Array(ok.length * stride);
  ok.forEach((index, row) => normalizePixels(decoded.images[index]!, normalization, input, row * stride));
  return { images: [...images], input, ok, errors };
}

/** Stage 2: the encoder's forward pass (as `captionPrepared` runs it without a mirror). The caller disposes the features. */
export function encodeBatch(model: InferenceModel, input: Float32Array, count: number): DecoderFeatures {
  return encodeViews(model, input, count, false).features;
}

/** Stage 3: batched decoding from features (greedy, beam or sampling). */
export function decodeFeatures(model: InferenceModel, features: DecoderFeatures, options: DecodeOptions): DecodedCaption[] {
  return decode(model.decoder, features, options);
}

export function disposeFeatures(features: DecoderFeatures): void {
  if (features.pooled) features.pooled.dispose();
  if (features.grid) features.grid.dispose();
}

/** Stages 2 and 3 for a prepared batch: one caption (or error) per image, in order. */
export function captionPrepared(model: InferenceModel, batch: PreparedBatch, settings: DecodingSettings): PipelineCaption[] {
  const results: PipelineCaption[] = batch.images.map((image, index) => ({
    ...image,
    caption: null,
    tokens: [],
    logProb: null,
    confidence: null,
    error: batch.errors.get(index) ?? null,
  }));
  if (batch.ok.length === 0) return results;
  const views = encodeViews(model, batch.input, batch.ok.length, settings.mirrorConsensus === true);
  try {
    decodeViews(model, views, settings).forEach((decoded, row) => {
      const result = results[batch.ok[row]!]!;
      result.tokens = decoded.tokens;
      result.caption = model.vocabulary.decode(decoded.tokens).join(' ');
      result.logProb = decoded.logProb;
      result.confidence = confidenceOf(decoded);
    });
  } finally {
    disposeViews(views);
  }
  return results;
}

async function* inBatches<T>(source: AsyncIterable<T>, size: number): AsyncGenerator<T[]> {
  let batch: T[] = [];
  for await (const item of source) {
    batch.push(item);
    if (batch.length >= size) {
      yield batch;
      batch = [];
    }
  }
  if (batch.length > 0) yield batch;
}

/**
 * Captions every image of `source`, a batch at a time, yielding each batch's
 * captions as soon as they exist. When `signal` aborts, it stops after the
 * batch in hand: what it yielded is complete, nothing else was captioned.
 */
export async function* captionPipeline(
  model: InferenceModel,
  source: AsyncIterable<PipelineImage>,
  settings: DecodingSettings,
  options: PipelineOptions,
): AsyncGenerator<PipelineCaption[]> {
  checkDecoding(model, settings);
  const prefetch = Math.max(1, options.prefetch ?? 2);
  const concurrency = options.concurrency ?? Math.max(1, options.batchSize);
  const batches = inBatches(source, Math.max(1, options.batchSize))[Symbol.asyncIterator]();
  const inflight: Promise<PreparedBatch>[] = [];
  let exhausted = false;
  const fill = async () => {
    while (!exhausted && inflight.length < prefetch && !options.signal?.aborted) {
      const next = await batches.next();
      if (next.done) {
        exhausted = true;
        return;
      }
      const prepared = prepareBatch(model, next.value, concurrency);
      // Awaited in order below; this only keeps an early exit from reporting it unhandled.
      prepared.catch(() => undefined);
      inflight.push(prepared);
    }
  };
  try {
    await fill();
    while (inflight.length > 0 && !options.signal?.aborted) {
      const batch = await inflight.shift()!;
      // Start decoding the following batches before the model blocks the thread.
      await fill();
      yield captionPrepared(model, batch, settings);
      // Lets the engine read a cancel message between batches.
      await new Promise((resolve) => setImmediate(resolve));
    }
  } finally {
    await Promise.allSettled(inflight);
    await batches.return?.(undefined);
  }
}
