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

// ─── the gallery of an evaluation ────────────────────────────────────────────

/** One claim of a generated caption about a Shapes scene, checked against the scene's truth. */
export interface GroundedClaim {
  /** shape, color, size, count, relation, position or background. */
  attribute: string;
  /** The caption's words the claim was read from. */
  text: string;
  correct: boolean;
}

/** A run of the caption's words with the same verdict: part of a wrong claim (with its attributes), only of right claims, or of none. */
export interface VerdictSegment {
  text: string;
  status: 'wrong' | 'right' | 'none';
  /** Attributes of the wrong claims these words belong to. */
  attributes: string[];
}

/** The grounded verdict of one generated caption (Shapes datasets only). */
export interface GroundedVerdict {
  claims: GroundedClaim[];
  /** The caption's words, marked, for highlighting the wrong claims. */
  segments: VerdictSegment[];
  correct: number;
  wrong: number;
  /** Attributes of the wrong claims, each once. */
  errorTypes: string[];
  /** correct / claims; null without claims. */
  precision: number | null;
}

export interface GalleryItem {
  evaluationId: number;
  split: string;
  imageId: string;
  imagePath: string | null;
  caption: string;
  references: string[];
  /** Per-image scores as the evaluation stored them: bleu1..bleu4, rougeL, ciderD; plus `grounded` (the verdict's precision) on Shapes. */
  scores: Record<string, number>;
  grounded: GroundedVerdict | null;
}

export const GALLERY_WORD_FIELDS = ['any', 'generated', 'references'] as const;
export type GalleryWordField = (typeof GALLERY_WORD_FIELDS)[number];

/** Grounded filter values besides an attribute name: any wrong claim, or none. */
export const GROUNDED_ANY_ERROR = 'any';
export const GROUNDED_NO_ERROR = 'none';

export interface GalleryQuery {
  evaluationIds: number[];
  /** A score key (see `GalleryPage.sortKeys`). */
  sort: string;
  direction: 'asc' | 'desc';
  /** Whole word, case-insensitive, as the metrics tokenize it. */
  word?: string | undefined;
  wordIn: GalleryWordField;
  split?: string | undefined;
  /** A grounded attribute with a wrong claim, `any` or `none`. */
  groundedError?: string | undefined;
}

export interface GalleryEvaluationSummary {
  id: number;
  runId: number | null;
  split: string;
  imageCount: number;
  aggregate: Record<string, number>;
  decoding: Record<string, unknown>;
  checkpoint: { path: string; epoch: number | null } | null;
  /** Whether the evaluation's dataset has Shapes scenes (grounded verdicts). */
  grounded: boolean;
}

export interface GalleryPage {
  /** Items matching the filters. */
  total: number;
  offset: number;
  items: GalleryItem[];
  /** Keys one may sort by. */
  sortKeys: string[];
  /** Splits of the evaluations shown. */
  splits: string[];
  /** Grounded attributes that have at least one wrong claim in the evaluations. */
  groundedErrorTypes: string[];
  evaluations: GalleryEvaluationSummary[];
  /** What the gallery could not show and why (e.g. a Shapes scenes file that has moved). */
  warnings: string[];
}

export interface GalleryReport {
  path: string;
  images: number;
  /** Images whose per-word heatmaps the report includes. */
  heatmapImages: number;
  bytes: number;
}
