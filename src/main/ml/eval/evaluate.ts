/**
 * Evaluating a checkpoint: caption every image of a dataset split with the
 * chosen decoding, tokenize candidates and references alike, and score them
 * per image and for the split with the coco-caption metrics (plus the
 * grounded Shapes accuracy when the dataset has its scenes). The split is
 * the one training used: the dataset's own, or the same seeded split.
 */
import type { DecodingSettings, EvalSplit, EvaluationFailure, EvaluationOutcome } from '../../../shared/inferenceTypes';
import { METRIC_SUITE, scoreCorpus, type ScoringItem } from '../../lib/metrics';
import { captionFiles } from '../captioning/captionImages';
import { completeDecoding } from '../captioning/decoding';
import { loadCheckpointModel } from '../captioning/model';
import { readDataset } from '../../lib/data/readers';
import { resolveSplits } from '../../lib/data/text/splits';
import { findScenesFile, groundedAccuracy } from '../../lib/eval/grounded';
import { EVAL_TOKENIZATION, tokenizeForMetrics } from '../../lib/eval/tokenization';

export interface EvaluateParams {
  checkpointPath: string;
  /** Dataset to evaluate on; default: the one the run trained on. */
  datasetPath: string | null;
  split: EvalSplit;
  decoding: Partial<DecodingSettings>;
  /** Evaluate only the first N images of the split (0 = all). */
  limit: number;
  batchSize: number;
  dataDir: string;
}

export interface EvaluateHooks {
  signal?: AbortSignal;
  progress?(stage: string, done: number, total: number | null): void;
  log?(message: string): void;
}

export async function evaluateCheckpoint(params: EvaluateParams, hooks: EvaluateHooks = {}): Promise<EvaluationOutcome> {
  const started = performance.now();
  const progress = hooks.progress ?? (() => undefined);
  progress('loading model', 0, null);
  const model = await loadCheckpointModel(params.checkpointPath, { dataDir: params.dataDir, ...(hooks.signal ? { signal: hooks.signal } : {}) });
  try {
    const config = model.runConfig!;
    const datasetPath = params.datasetPath ?? config.dataset.path;
    progress('reading dataset', 0, null);
    const dataset = await readDataset(datasetPath);
    const { splits, source } = resolveSplits(dataset, { seed: config.training.seed });
    let images = splits[params.split];
    if (images.length === 0) throw new Error(`${datasetPath}: the "${params.split}" split has no images.`);
    if (params.limit > 0) images = images.slice(0, params.limit);
    const decoding = completeDecoding(params.decoding, model.maxCaptionLength);

    progress('captioning', 0, images.length);
    const captioned = await captionFiles(
      model,
      images.map((image) => image.file),
      decoding,
      { batchSize: params.batchSize, ...(hooks.signal ? { signal: hooks.signal } : {}), onBatch: (done, total) => progress('captioning', done, total) },
    );

    const failures: EvaluationFailure[] = [];
    const scored: { image: (typeof images)[number]; caption: string; references: string[] }[] = [];
    captioned.forEach((result, index) => {
      const image = images[index]!;
      if (result.caption === null) {
        failures.push({ imageId: image.id, imagePath: image.file, error: result.error ?? 'not captioned' });
        return;
      }
      const references = image.captions.filter((caption) => tokenizeForMetrics(caption).length > 0);
      if (references.length === 0) {
        failures.push({ imageId: image.id, imagePath: image.file, error: 'the image has no reference caption with words in it' });
        return;
      }
      scored.push({ image, caption: result.caption, references });
    });
    if (scored.length === 0) throw new Error(`No image of the "${params.split}" split could be captioned and scored (${failures.length} failed).`);

    progress('scoring', 0, 1);
    const items: ScoringItem[] = scored.map(({ image, caption, references }) => ({
      imageId: image.id,
      candidate: tokenizeForMetrics(caption),
      references: references.map(tokenizeForMetrics),
    }));
    const scores = scoreCorpus(items);
    const scenesFile = findScenesFile(dataset.source);
    const grounded = scenesFile ? await groundedAccuracy(scenesFile, scored.map(({ image, caption }): [string, string] => [image.file, caption])) : null;
    progress('scoring', 1, 1);
    return {
      checkpointPath: params.checkpointPath,
      dataset: { path: datasetPath, format: dataset.format, splitSource: source },
      split: params.split,
      decoding,
      tokenization: EVAL_TOKENIZATION,
      metrics: METRIC_SUITE,
      aggregate: scores.aggregate,
      grounded,
      items: scored.map(({ image, caption, references }, index) => ({
        imageId: image.id,
        imagePath: image.file,
        caption,
        references,
        scores: scores.perImage[index]!.scores,
      })),
      failures,
      seconds: (performance.now() - started) / 1000,
    };
  } finally {
    model.dispose();
  }
}
