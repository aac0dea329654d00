/**
 * The one shape every caption dataset is read into, whatever its format.
 * Plain data with no tfjs, so the main process uses it for import, stats and
 * browsing, and the engine for training.
 */

export {
  DATASET_FORMATS,
  SPLIT_NAMES,
  type DatasetFormat,
  type DatasetProblem,
  type ProblemKind,
  type ProblemReport,
  type SplitName,
} from '../../../../shared/datasetsTypes';
import type { DatasetFormat, ProblemReport, SplitName } from '../../../../shared/datasetsTypes';

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
