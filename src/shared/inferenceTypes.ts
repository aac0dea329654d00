/**
 * Response types of the inference, evaluation and model-package methods.
 * Plain serializable data: no Node, no DOM, no tensors.
 */
import type { EvaluationItem, EvaluationRecord } from './storeTypes';

/** The coco-caption metrics the workbench computes itself. */
export type MetricKey = 'bleu1' | 'bleu2' | 'bleu3' | 'bleu4' | 'rougeL' | 'ciderD';

export type MetricScores = Record<MetricKey, number>;

/** How a metric is defined, stored beside every evaluation so old numbers stay interpretable. */
export interface MetricDefinition {
  key: MetricKey;
  name: string;
  definition: string;
}

/** Metrics that need external Java tools and data, and are therefore not reported. */
export interface UnavailableMetric {
  name: string;
  reason: string;
}

export interface MetricSuite {
  /** Bumped whenever a definition changes, so stored scores say which one produced them. */
  version: string;
  reference: string;
  metrics: MetricDefinition[];
  unavailable: UnavailableMetric[];
}

export interface ImageScores {
  imageId: string;
  candidate: string;
  scores: MetricScores;
}

export interface CorpusScores {
  images: number;
  aggregate: MetricScores;
  perImage: ImageScores[];
}

/** How captions were turned into the words the metrics compare. */
export interface TokenizationInfo {
  name: string;
  description: string;
}

/** One attribute of the Shapes grounded accuracy: claims made and how many were true of the scene. */
export interface GroundedAttributeScore {
  claims: number;
  correct: number;
  /** correct / claims; null without claims. */
  precision: number | null;
}

/**
 * Grounded Shapes accuracy (the datasets' grounded scorer): how often what the
 * captions state (shape, colour, size, count, relation, position,
 * background) is true of the rendered scene.
 */
export interface GroundedSummary {
  /** Where the scene truth came from. */
  scenesFile: string;
  images: number;
  unknownImages: string[];
  attributes: Record<string, GroundedAttributeScore>;
  overall: GroundedAttributeScore;
  objectRecall: number | null;
  exactCaptions: number | null;
  captionsWithoutClaims: number;
}

export interface ScoreReport {
  refs: { file: string; format: 'coco' | 'karpathy'; images: number };
  results: { file: string; captions: number };
  /** Images scored per reference split (Karpathy files carry splits; COCO files do not: "(none)"). */
  splits: Record<string, number>;
  tokenization: TokenizationInfo;
  metrics: MetricSuite;
  aggregate: MetricScores;
  /** Present when the request asked for per-image scores. */
  perImage: ImageScores[] | null;
  /** Present when the references come from a Shapes dataset with its scenes.json beside them. */
  grounded: GroundedSummary | null;
}

/** How captions are generated: the settings stored with every evaluation and package. */
export interface DecodingSettings {
  strategy: 'greedy' | 'beam' | 'sample';
  /** Beam search: beams per image (1 is greedy). */
  beamWidth: number;
  /** Beam search: final captions ranked by Σ log p / length^lengthPenalty. */
  lengthPenalty: number;
  minLength: number;
  maxLength: number;
  /** Never repeat an n-gram of this size in a caption (0 = off). */
  noRepeatNgramSize: number;
  /**
   * Greedy and beam: also decode each image mirrored left to right and choose
   * the caption both views find likeliest (ml/infer/consensus.ts); for
   * models trained with the horizontal flip. Absent in settings stored before it existed: off.
   */
  mirrorConsensus?: boolean;
  /**
   * Greedy and beam: also read each candidate that is one relation between
   * two things told from the other thing ("a cross below a box" for "a box
   * above a cross"), and choose the caption likeliest both ways
   * (ml/infer/consensus.ts). Absent in settings stored before it existed: off.
   */
  converseConsensus?: boolean;
  /**
   * Greedy and beam: add to the candidates, for each caption that is one
   * relation between two things, the same caption with every other relation
   * phrase, and rank them with the length of the caption they came from
   * (ml/infer/consensus.ts). Absent in settings stored before it existed: off.
   */
  relationSearch?: boolean;
  /** Sampling only. */
  temperature: number;
  topK: number;
  topP: number;
  seed: number;
}

export interface CaptionResult {
  image: string;
  caption: string | null;
  /** Σ log p of the words and the closing <end>. */
  logProb: number | null;
  /** Why the image could not be captioned (unreadable, not an image, too large). */
  error: string | null;
}

export const EVAL_SPLITS = ['train', 'val', 'test'] as const;
export type EvalSplit = (typeof EVAL_SPLITS)[number];

/** An image the evaluation could not caption or score, and why. */
export interface EvaluationFailure {
  imageId: string;
  imagePath: string;
  error: string;
}

/** What the engine hands back after evaluating a checkpoint; the main process stores it. */
export interface EvaluationOutcome {
  checkpointPath: string;
  dataset: { path: string; format: string; splitSource: 'dataset' | 'seeded' };
  split: EvalSplit;
  decoding: DecodingSettings;
  tokenization: TokenizationInfo;
  metrics: MetricSuite;
  aggregate: MetricScores;
  grounded: GroundedSummary | null;
  items: { imageId: string; imagePath: string; caption: string; references: string[]; scores: MetricScores }[];
  failures: EvaluationFailure[];
  seconds: number;
}

/** Which checkpoint of a run: its best, its latest, or the one written after an epoch. */
export type CheckpointChoice = 'best' | 'last' | number;

/** What `eval.start`'s job answers when it completes (also in `job.finished`). */
export interface EvaluationSummary {
  evaluationId: number;
  runId: number;
  checkpointId: number;
  checkpointPath: string;
  split: EvalSplit;
  images: number;
  failures: number;
  decoding: DecodingSettings;
  aggregate: MetricScores;
  grounded: GroundedSummary | null;
  /** The captions in the COCO results format. */
  resultsPath: string;
  seconds: number;
}

export interface EvaluationDetail {
  evaluation: EvaluationRecord;
  items: EvaluationItem[];
  /** The COCO results file written with it, when it is still there. */
  resultsPath: string | null;
}

/** An exported or imported model package, as the API lists it. */
export interface ModelPackageInfo {
  name: string;
  /** The package folder. */
  path: string;
  createdAt: string;
  source: { runId: number | null; runName: string | null; checkpoint: { epoch: number; step: number } | null };
  encoder: { kind: 'scratch-cnn' | 'layers' | 'graph'; id: string; inputSize: number };
  decoder: { variant: string; cell: string; layers: number; embeddingDim: number; units: number; vocabSize: number };
  decoding: DecodingSettings;
  /** The best stored evaluation of the exported checkpoint, if there was one. */
  evaluation: { split: string; images: number; aggregate: Record<string, number> } | null;
  sizeBytes: number;
  files: string[];
}

export interface ModelCaptions {
  /** The package folder used. */
  model: string;
  decoding: DecodingSettings;
  captions: CaptionResult[];
}
