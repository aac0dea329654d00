/**
 * The end-of-epoch check: validation loss (teacher forcing, no dropout, no
 * label smoothing), greedy captions for a fixed subset of validation images
 * scored with BLEU-4 and CIDEr-D, and the captions of a few fixed images to
 * show. The subset is fixed for the whole run (drawn from the seed), so
 * epochs are comparable.
 */
import * as tf from '@tensorflow/tfjs';
import type { SampleCaptionData } from '../../../shared/trainingTypes';
import { greedyDecode } from '../infer/sequential';
import type { CaptionDecoder } from '../model/decoder';
import { deriveSeed, Rng } from '../model/rng';
import type { Vocabulary } from '../../lib/data/text/vocabulary';
import { hostBatch, toTensors } from './batches';
import type { SplitData } from './data';
import { tidyObject, type FeatureSource } from './featureSource';
import { scoreCaptions } from './scoring';

export interface ValidationResult {
  valLoss: number;
  bleu4: number;
  ciderD: number;
  images: number;
  samples: SampleCaptionData[];
  seconds: number;
}

/** Indices of the validation images scored every epoch (all when `size` is 0 or covers the split). */
export function validationSubset(split: SplitData, size: number, seed: number): number[] {
  const all = Array.from({ length: split.images.length }, (_, i) => i);
  if (size <= 0 || size >= all.length) return all;
  return new Rng(deriveSeed(seed, 'validation')).shuffled(all).slice(0, size).sort((a, b) => a - b);
}

export interface ValidationOptions {
  subset: readonly number[];
  sampleImages: number;
  batchSize: number;
  maxLength: number;
  signal?: AbortSignal;
}

/** Null when `signal` aborted it (the caller saves and stops; a resume validates again). */
export async function validate(
  decoder: CaptionDecoder,
  source: FeatureSource,
  split: SplitData,
  vocabulary: Vocabulary,
  options: ValidationOptions,
): Promise<ValidationResult | null> {
  const started = performance.now();
  const inSubset = new Set(options.subset);
  const captions = split.captions.filter((caption) => inSubset.has(caption.image));

  let lossSum = 0;
  let tokenCount = 0;
  for (let start = 0; start < captions.length; start += options.batchSize) {
    if (options.signal?.aborted) return null;
    const batch = hostBatch(captions.slice(start, start + options.batchSize));
    const loss = tf.tidy(() => {
      const features = source.features('val', batch.images, false);
      return decoder.loss(features, toTensors(batch), { training: false }).crossEntropy;
    });
    lossSum += (await loss.data())[0]! * batch.tokens;
    tokenCount += batch.tokens;
    loss.dispose();
    await yieldToEvents();
  }

  const candidates: string[] = [];
  for (let start = 0; start < options.subset.length; start += options.batchSize) {
    if (options.signal?.aborted) return null;
    const images = options.subset.slice(start, start + options.batchSize);
    const features = tidyObject(() => source.features('val', images, false));
    try {
      const decoded = greedyDecode(decoder, features, { minLength: 1, maxLength: options.maxLength, noRepeatNgramSize: 0 });
      for (const caption of decoded) candidates.push(vocabulary.decode(caption.tokens).join(' '));
    } finally {
      tf.dispose([features.pooled ?? [], features.grid ?? []]);
    }
    await yieldToEvents();
  }

  const items = candidates.map((candidate, i) => {
    const image = options.subset[i]!;
    return { imageId: split.images[image]!.id, candidate, references: split.references[image]! };
  });
  const scores = scoreCaptions(items);
  const samples = items.slice(0, options.sampleImages).map((item, i) => ({
    imageId: item.imageId,
    imagePath: split.images[options.subset[i]!]!.file,
    caption: item.candidate,
    references: [...item.references],
  }));
  return {
    valLoss: tokenCount > 0 ? lossSum / tokenCount : Number.NaN,
    ...scores,
    images: items.length,
    samples,
    seconds: (performance.now() - started) / 1000,
  };
}

/** Lets the engine read messages (a stop request) between steps. */
export function yieldToEvents(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** The end-of-epoch validation of one run: its fixed subset and settings. */
export class RunValidation {
  readonly subset: number[];

  constructor(
    private readonly decoder: CaptionDecoder,
    private readonly source: FeatureSource,
    private readonly split: SplitData,
    private readonly vocabulary: Vocabulary,
    private readonly settings: { subsetSize: number; sampleImages: number; batchSize: number; maxLength: number; seed: number },
  ) {
    this.subset = validationSubset(split, settings.subsetSize, settings.seed);
  }

  /** Null when `signal` aborted it. */
  run(signal?: AbortSignal): Promise<ValidationResult | null> {
    return validate(this.decoder, this.source, this.split, this.vocabulary, {
      subset: this.subset,
      sampleImages: this.settings.sampleImages,
      batchSize: this.settings.batchSize,
      maxLength: this.settings.maxLength,
      ...(signal ? { signal } : {}),
    });
  }
}
