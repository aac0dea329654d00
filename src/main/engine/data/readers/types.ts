/**
 * The one shape every caption dataset is read into, whatever its format.
 * Plain data with no tfjs, so the main process uses it for import, stats and
 * browsing, and the engine for training.
 */

export const DATASET_FORMATS = [
  'flickr8k-csv',
  'flickr8k-token',
  'flickr30k',
  'coco',
  'karpathy',
  'csv',
  'jsonl',
  'folder',
] as const;
export type DatasetFormat = (typeof DATASET_FORMATS)[number];

export const SPLIT_NAMES = ['train', 'val', 'test'] as const;
export type SplitName = (typeof SPLIT_NAMES)[number];

export interface DatasetImage {
  /** Stable id inside the dataset: the image's path relative to the image root, with `/` separators. */
  id: string;
  /** Absolute path of the image file. */
  file: string;
  /** Captions as written in the source, in source order. */
  captions: string[];
  /** The split the dataset assigns, or null when it has none. */
  split: SplitName | null;
}

export type ProblemKind =
  | 'missing-image'
  | 'unreadable-image'
  | 'no-caption'
  | 'empty-caption'
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
  /** The first few examples of each kind (see `MAX_EXAMPLES_PER_KIND`). */
  examples: DatasetProblem[];
}

export interface CaptionDataset {
  format: DatasetFormat;
  /** The file or folder that was read. */
  source: string;
  /** The folder the images live under (registered as a media root on import). */
  imageRoot: string;
  /** Images that exist and look readable; missing and unreadable ones are in `problems` only. */
  images: DatasetImage[];
  /** True when the dataset assigns train/val/test itself. */
  hasSplits: boolean;
  problems: ProblemReport;
}

/** Structural damage in the annotations: names the file and the line or JSON path. */
export class DatasetFormatError extends Error {
  override name = 'DatasetFormatError';
  constructor(
    readonly file: string,
    readonly where: { line?: number; jsonPath?: string },
    readonly detail: string,
  ) {
    super(`${file}${where.line !== undefined ? `:${where.line}` : ''}${where.jsonPath ? ` at ${where.jsonPath}` : ''}: ${detail}`);
  }
}
