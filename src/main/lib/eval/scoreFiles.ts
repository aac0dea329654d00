/**
 * `captioner score`: a COCO results file against reference captions, both
 * tokenized by the evaluation tokenizer, scored with every metric, and with
 * the grounded Shapes accuracy when the references are a Shapes dataset.
 */
import type { ScoreReport } from '../../../shared/inferenceTypes';
import { METRIC_SUITE, scoreCorpus, type ScoringItem } from '../metrics';
import { findScenesFile, groundedAccuracy } from './grounded';
import { JsonInputError } from './jsonInput';
import { readReferences, type ReferenceImage, type ReferenceSet } from './references';
import { readResults, type ResultCaption } from './results';
import { EVAL_TOKENIZATION, tokenizeForMetrics } from './tokenization';

export interface ScoreFilesRequest {
  refs: string;
  results: string;
  perImage: boolean;
}

export async function scoreFiles(request: ScoreFilesRequest): Promise<ScoreReport> {
  const references = readReferences(request.refs);
  const results = readResults(request.results);
  const matched = matchResults(references, results, request.results);
  const items: ScoringItem[] = matched.map(({ image, result }) => ({
    imageId: image.imageId,
    candidate: tokenizeForMetrics(result.caption),
    references: image.captions.map(tokenizeForMetrics),
  }));
  const scores = scoreCorpus(items);
  const splits: Record<string, number> = {};
  for (const { image } of matched) {
    const split = image.split ?? '(none)';
    splits[split] = (splits[split] ?? 0) + 1;
  }
  const scenesFile = findScenesFile(request.refs);
  const grounded = scenesFile
    ? await groundedAccuracy(
        scenesFile,
        matched.map(({ image, result }): [string, string] => [image.fileName ?? image.imageId, result.caption]),
      )
    : null;
  return {
    refs: { file: request.refs, format: references.format, images: references.images.length },
    results: { file: request.results, captions: results.length },
    splits,
    tokenization: EVAL_TOKENIZATION,
    metrics: METRIC_SUITE,
    aggregate: scores.aggregate,
    perImage: request.perImage ? scores.perImage : null,
    grounded,
  };
}

/** Every result must name a reference image, and no image may be captioned twice. */
function matchResults(
  references: ReferenceSet,
  results: readonly ResultCaption[],
  resultsFile: string,
): { image: ReferenceImage; result: ResultCaption }[] {
  const claimedBy = new Map<string, string>();
  return results.map((result) => {
    const image = references.lookup(result.imageId);
    if (!image) {
      throw new JsonInputError(
        resultsFile,
        `${result.jsonPath}.image_id`,
        `image ${result.imageId} has no reference captions in ${references.file}.`,
      );
    }
    const earlier = claimedBy.get(image.imageId);
    if (earlier) {
      throw new JsonInputError(
        resultsFile,
        result.jsonPath,
        `image ${result.imageId} is the same reference image as ${earlier}; results hold one caption per image.`,
      );
    }
    claimedBy.set(image.imageId, result.jsonPath);
    return { image, result };
  });
}
