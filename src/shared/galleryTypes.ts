/**
 * Types of the gallery: an evaluation's images with their scores, and the
 * explanation of one caption (attention per word, beam alternatives).
 * Plain serializable data: no Node, no DOM, no tensors.
 */
import type { DecodingSettings } from './inferenceTypes';

// ─── explaining a caption ────────────────────────────────────────────────────

/** The model to explain: a training checkpoint folder or an exported model package. */
export type ExplainModelRef = { kind: 'checkpoint'; path: string } | { kind: 'package'; dir: string };

/** One generated word (or the closing `<end>`) with what the decoder did at that step. */
export interface ExplainedWord {
  /** The word as the vocabulary spells it; `<end>` for the closing step. */
  word: string;
  tokenId: number;
  /** log p of this word given the image and the words before it. */
  logProb: number;
  /**
   * Attention models: the weights over the encoder grid's regions at this
   * step (row-major, `grid.rows × grid.cols`, summing to 1): exactly what the
   * decoder multiplied the grid by to predict this word. Null without attention.
   */
  attention: number[] | null;
  /** Entropy of `attention` divided by log(regions): 1 is perfectly uniform, 0 all on one region. Null without attention. */
  uniformity: number | null;
}

/** One caption of the beam (the chosen one or an alternative). */
export interface ExplainedCaption {
  caption: string;
  /** The generated words, then `<end>`. */
  words: ExplainedWord[];
  /** Σ log p of the words and `<end>`. */
  logProb: number;
  /** What beam search ranked by: Σ log p / length^lengthPenalty (greedy and sampling: logProb). */
  score: number;
  /** True for the caption decoding returns (the one evaluations store). */
  chosen: boolean;
}

export interface AttentionDiagnosis {
  /** Mean uniformity over the chosen caption's steps. */
  meanUniformity: number;
  /** True when attention is so close to uniform that the heatmaps say little (a known failure mode). */
  nearlyUniform: boolean;
  /** Threshold on meanUniformity above which `nearlyUniform` is set. */
  threshold: number;
}

export interface CaptionExplanation {
  image: string;
  decoding: DecodingSettings;
  /** The decoder variant: only `attention` decoders attend over the grid. */
  variant: string;
  hasAttention: boolean;
  /** The encoder grid the weights lie on; it covers the whole image (images are squashed to the encoder's square input). Null without attention. */
  grid: { rows: number; cols: number } | null;
  /** How the image was fitted to the encoder's input: the heatmap covers what the encoder saw. */
  fit: 'squash' | 'center-crop';
  /** The chosen caption first, then the beam's other finished captions by score. */
  captions: ExplainedCaption[];
  /** Attention models: whether the attention is nearly uniform. */
  diagnosis: AttentionDiagnosis | null;
  seconds: number;
}
