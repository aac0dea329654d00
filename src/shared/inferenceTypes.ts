/**
 * Response types of the inference, evaluation and model-package methods.
 * Plain serializable data: no Node, no DOM, no tensors.
 */

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
