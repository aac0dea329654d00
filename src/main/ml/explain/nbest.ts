/**
 * Every finished caption of a beam search for one image, not only the best.
 * Beam search in ml/infer returns the best hypothesis per image; explaining a
 * caption also shows what else the beam found. These are the hypotheses of
 * that same search (`finishedHypotheses`), run on until the beam has `width`
 * of them, so the best one is the caption `decode` returns.
 */
import type { DecoderFeatures } from '../model/decoder';
import { finishedHypotheses } from '../infer/beam';
import { rowsOf } from '../infer/stepping';
import type { BeamOptions, StepDecoder } from '../infer/types';

export interface BeamHypothesis {
  /** Word ids without <start> and <end>. */
  tokens: number[];
  /** Σ log p of the words and <end>. */
  logProb: number;
  /** logProb / (words + 1)^lengthPenalty: what the beam ranks by. */
  score: number;
}

/**
 * The finished hypotheses of a beam search over one image, best score first:
 * at least one and fewer than 2·width (the last step may finish several).
 */
export function beamHypotheses<S>(model: StepDecoder<S>, features: DecoderFeatures, options: BeamOptions): BeamHypothesis[] {
  if (rowsOf(features) !== 1) throw new Error(`Beam alternatives are found for one image at a time, got ${rowsOf(features)}.`);
  const [found] = finishedHypotheses(model, features, options, { exhaustive: true });
  return found!
    .map((h) => ({ tokens: h.tokens, logProb: h.logProb, score: h.logProb / Math.max(1, h.tokens.length + 1) ** options.lengthPenalty }))
    .sort((a, b) => b.score - a.score);
}
