/**
 * Mirror consensus (`decoding.mirrorConsensus`). A model trained with the
 * horizontal flip has learned that the mirror image of a picture is told by
 * the same caption with "left" and "right" swapped, so the mirror is a
 * second view of the image. A caption that puts an object on the wrong side,
 * or names the wrong object beside another, can look likely from one view;
 * it rarely looks likely from both.
 *
 * So each image is decoded twice, as it is and mirrored (greedy: one caption
 * each; beam search: every finished hypothesis of each beam), the mirror's
 * captions are mirrored back, and of all these candidates the one chosen has
 * the highest
 *
 *   (log p(caption | image) + log p(mirrored caption | mirror)) / (words + 1)^lengthPenalty
 *
 * with greedy decoding ranking by the sum alone (lengthPenalty 0), as it
 * does without the mirror. Both log-probabilities are read by replaying the
 * decoder along every candidate at once (explain/replay.ts), the same steps
 * decoding runs. The beams of all images step together, as in beam search,
 * but each runs until it has `width` finished hypotheses.
 */
import { mirrorIds } from '../../lib/data/text/mirror';
import { replayCaptions } from '../explain/replay';
import type { DecoderFeatures } from '../model/decoder';
import { finishedHypotheses } from './beam';
import { greedyDecode } from './sequential';
import { rowsOf } from './stepping';
import type { BeamOptions, DecodedCaption, GreedyOptions, StepDecoder } from './types';

export interface MirrorViews {
  /** The encoder's features of the images. */
  features: DecoderFeatures;
  /** The same of the images mirrored left to right, row for row. */
  mirrored: DecoderFeatures;
}

/**
 * One caption per image, chosen by both views. `mirror` maps a word id to
 * its mirrored word's id (`mirrorIdMap` of the model's vocabulary).
 */
export function mirrorConsensus<S>(model: StepDecoder<S>, views: MirrorViews, options: GreedyOptions | BeamOptions, mirror: Int32Array): DecodedCaption[] {
  const images = rowsOf(views.features);
  if (rowsOf(views.mirrored) !== images) throw new Error(`Mirror consensus needs one mirrored image per image (${images} images, ${rowsOf(views.mirrored)} mirrored).`);
  const mirrored = (tokens: readonly number[]) => Array.from(mirrorIds(Int32Array.from(tokens), mirror));
  const own = candidateTokens(model, views.features, options);
  const fromMirror = candidateTokens(model, views.mirrored, options);
  // Every image's candidates, each once: its own view's, then the mirror's mirrored back.
  const candidates = own.map((list, image) => {
    const unique = new Map<string, number[]>();
    for (const tokens of [...list, ...fromMirror[image]!.map(mirrored)]) unique.set(tokens.join(','), tokens);
    return [...unique.values()];
  });
  const rows = candidates.flatMap((list, image) => list.map((tokens) => ({ image, tokens })));
  const imageOfRow = rows.map((row) => row.image);
  const logProbsOn = (features: DecoderFeatures, captions: number[][]) =>
    replayCaptions(model, features, imageOfRow, captions, { attention: false }).map((replayed) => replayed.tokenLogProbs);
  const onImage = logProbsOn(views.features, rows.map((row) => row.tokens));
  const onMirror = logProbsOn(views.mirrored, rows.map((row) => mirrored(row.tokens)));
  const lengthPenalty = options.strategy === 'beam' ? options.lengthPenalty : 0;
  const best: Array<DecodedCaption | null> = new Array(images).fill(null);
  rows.forEach(({ image, tokens }, row) => {
    const logProb = sum(onImage[row]!);
    const score = (logProb + sum(onMirror[row]!)) / (tokens.length + 1) ** lengthPenalty;
    const current = best[image];
    if (!current || score > current.score) best[image] = { tokens, tokenLogProbs: onImage[row]!, logProb, score };
  });
  return best.map((caption) => caption!);
}

/** The captions each image's view proposes: greedy's one, or every finished hypothesis of its beam (all images' beams stepped together). */
function candidateTokens<S>(model: StepDecoder<S>, features: DecoderFeatures, options: GreedyOptions | BeamOptions): number[][][] {
  if (options.strategy === 'greedy') return greedyDecode(model, features, options).map((caption) => [caption.tokens]);
  return finishedHypotheses(model, features, options, { exhaustive: true }).map((hypotheses) => hypotheses.map((hypothesis) => hypothesis.tokens));
}

const sum = (values: readonly number[]): number => values.reduce((total, value) => total + value, 0);
