/**
 * Datasets: formats, splits, problems, and the responses of the `datasets.*`
 * methods. Plain serializable data shared by the main process, the engine,
 * the CLI and the UI.
 */

export const DATASET_FORMATS = ['flickr8k-csv', 'flickr8k-token', 'flickr30k', 'coco', 'karpathy', 'csv', 'jsonl', 'folder'] as const;
export type DatasetFormat = (typeof DATASET_FORMATS)[number];

export const SPLIT_NAMES = ['train', 'val', 'test'] as const;
export type SplitName = (typeof SPLIT_NAMES)[number];

export type ProblemKind =
  | 'missing-image'
  | 'unreadable-image'
  | 'no-caption'
  | 'empty-caption'
  | 'caption-too-long'
  | 'duplicate-caption'
  | 'duplicate-image'
  | 'unknown-image'
  | 'not-in-split'
  | 'orphan-caption-file'
  | 'image-folder-not-found';

/** Something wrong with the data that does not stop it being read. */
export interface DatasetProblem {
  kind: ProblemKind;
  message: string;
  /** The image id concerned, when there is one. */
  image?: string;
  /** Where in the source: a file, and a line or JSON path in it. */
  file?: string;
  line?: number;
  jsonPath?: string;
}

export interface ProblemReport {
  /** How many problems of each kind were found. */
  counts: Partial<Record<ProblemKind, number>>;
  /** The first few examples of each kind. */
  examples: DatasetProblem[];
}

export interface SplitCount {
  images: number;
  captions: number;
}

/** `captioner dataset stats` and `datasets.stats`. */
export interface DatasetStats {
  format: DatasetFormat;
  source: string;
  imageRoot: string;
  /** Images that exist and look readable. */
  images: number;
  captions: number;
  /** `dataset` when the data assigns splits, `none` when it does not (training then draws a seeded split). */
  splitSource: 'dataset' | 'none';
  splits: Record<SplitName, SplitCount> & { unassigned: SplitCount };
  captionsPerImage: { min: number; max: number; mean: number };
  /** In words, after tokenization. */
  captionLength: { min: number; max: number; mean: number; median: number; p95: number; histogram: { length: number; count: number }[] };
  vocabulary: {
    /** Counted over all captions. */
    minCount: number;
    /** Distinct words in the captions. */
    distinctWords: number;
    /** Words seen at least minCount times, plus the four special tokens. */
    size: number;
    /** Share of all word occurrences that the vocabulary covers (the rest become <unk>). */
    coverage: number;
  };
  topWords: { word: string; count: number }[];
  problems: ProblemReport;
  /** True when a Shapes `scenes.json` sits beside the annotations (grounded scoring possible). */
  shapes: boolean;
}

export interface DatasetSummary {
  id: number;
  name: string;
  /** The file or folder that was imported. */
  path: string;
  format: DatasetFormat;
  /** Folder the images live under; served to the UI as a media root. */
  imageRoot: string;
  /** `shapes` for the Shapes benchmark (ground truth available), else `captions`. */
  kind: 'captions' | 'shapes';
  images: number;
  captions: number;
  /** Images per split, or null when the dataset has no splits of its own. */
  splits: Record<SplitName, number> | null;
  /** Total problems found on import (see datasets.stats for details). */
  problems: number;
  /** The full decode of every image (the `import` task that follows an import); null until it ran. */
  verified: { checked: number; unreadable: number; at: string } | null;
  createdAt: string;
  updatedAt: string;
}

/** An import's answer: the registered dataset, and the task that decodes every image (null when not asked). */
export interface DatasetImported extends DatasetSummary {
  verifyTaskId: number | null;
}

export interface BrowseItem {
  /** Stable id inside the dataset (the image's path relative to its root). */
  imageId: string;
  /** Absolute path, for `api.mediaUrl(path, { thumb })`. */
  path: string;
  split: SplitName | null;
  captions: string[];
}

export interface BrowsePage {
  datasetId: number;
  /** Images matching the filters, before paging. */
  total: number;
  offset: number;
  limit: number;
  items: BrowseItem[];
}

/** One object of a Shapes scene, as recorded in `scenes.json`. */
export interface ShapesObject {
  shape: string;
  color: string;
  size: 'small' | 'large';
  row: number;
  col: number;
  x: number;
  y: number;
  radius: number;
}

export interface ShapesScene {
  width: number;
  height: number;
  background: { color: string; texture: string };
  objects: ShapesObject[];
}

export interface ImageDetail extends BrowseItem {
  width: number | null;
  height: number | null;
  /** Image format as sharp reads it (jpeg, png, ...); null when unreadable. */
  format: string | null;
  bytes: number;
  /** Each caption's words as training and the metrics see them. */
  tokens: string[][];
  /** Ground truth for Shapes images. */
  scene: ShapesScene | null;
  /** Why the image could not be read, when it could not. */
  error: string | null;
}

export interface SynthResult {
  out: string;
  images: number;
  captions: number;
  splits: Record<SplitName, number>;
  seconds: number;
  files: { captions: string; karpathy: string; scenes: string; images: string };
  /** Set when the generated dataset was registered (datasets.createShapes, or synth with register). */
  dataset: DatasetSummary | null;
}

export interface CreateShapesResult {
  /** The generation task, or null when the dataset already existed. */
  taskId: number | null;
  path: string;
  /** The registered dataset when it already existed; otherwise the job's result carries it. */
  dataset: DatasetSummary | null;
}

export type GroundedAttributeName = 'shape' | 'color' | 'size' | 'count' | 'relation' | 'position' | 'background';

export interface GroundedAttributeScore {
  claims: number;
  correct: number;
  /** correct / claims; null with no claims. */
  precision: number | null;
}

/** Grounded Shapes scoring (definition in docs/datasets.md). */
export interface GroundedScore {
  images: number;
  unknownImages: string[];
  attributes: Record<GroundedAttributeName, GroundedAttributeScore>;
  overall: GroundedAttributeScore;
  objectRecall: number | null;
  exactCaptions: number | null;
  captionsWithoutClaims: number;
}
