/**
 * From a RunConfig's dataset section to what the training loop consumes:
 * the dataset read by the datasets module, split by image, captions
 * tokenized as the metrics tokenize them, a vocabulary built from the
 * training captions only, and each caption as word ids
 * (<start> w1 … wk <end>, cut to `vocab.maxCaptionLength` words).
 */
import { readDataset } from '../../lib/data/readers';
import { SPLIT_NAMES, type DatasetImage, type SplitName } from '../../lib/data/readers/types';
import { encodeTokens } from '../../lib/data/text/sequence';
import { resolveSplits } from '../../lib/data/text/splits';
import { tokenizeCaption } from '../../lib/data/text/tokenize';
import { END_ID, Vocabulary } from '../../lib/data/text/vocabulary';
import type { RunConfig } from '../../../shared/runConfig';
import type { SkippedImage } from '../../../shared/trainingTypes';

export interface CaptionItem {
  /** Index into the split's `images`. */
  image: number;
  /** <start> w1 … wk <end>, no padding. */
  tokens: Int32Array;
}

export interface SplitData {
  name: SplitName;
  images: DatasetImage[];
  captions: CaptionItem[];
  /** Per image: its tokenized reference captions (words joined by spaces), as the metrics read them. */
  references: string[][];
}

export interface TrainingData {
  format: string;
  source: string;
  vocabulary: Vocabulary;
  train: SplitData;
  val: SplitData;
  /** How the splits were obtained: the dataset's own, or drawn with the run's seed. */
  splitSource: 'dataset' | 'seeded';
  /** Images of the two splits left out because they could not be decoded. */
  skippedImages: SkippedImage[];
}

function splitName(value: string, field: string): SplitName {
  if ((SPLIT_NAMES as readonly string[]).includes(value)) return value as SplitName;
  throw new Error(`${field} must be one of ${SPLIT_NAMES.join(', ')} (got "${value}").`);
}

export async function loadTrainingData(config: RunConfig, vocabularyOverride?: Vocabulary): Promise<TrainingData> {
  const dataset = await readDataset(config.dataset.path);
  const { splits, source } = resolveSplits(dataset, { seed: config.training.seed });
  const trainName = splitName(config.dataset.trainSplit, 'dataset.trainSplit');
  const valName = splitName(config.dataset.valSplit, 'dataset.valSplit');
  if (trainName === valName) throw new Error('dataset.trainSplit and dataset.valSplit must differ.');
  let trainImages = splits[trainName];
  if (config.dataset.maxTrainImages > 0) trainImages = trainImages.slice(0, config.dataset.maxTrainImages);
  const valImages = splits[valName];
  if (trainImages.length === 0) throw new Error(`${config.dataset.path}: the "${trainName}" split has no images.`);
  if (valImages.length === 0) throw new Error(`${config.dataset.path}: the "${valName}" split has no images (validation needs some).`);

  const tokenizedTrain = trainImages.map((image) => image.captions.map(tokenizeCaption));
  // A resumed run must keep the ids it was trained with, whatever the data says now.
  const vocabulary =
    vocabularyOverride ?? Vocabulary.build(tokenizedTrain.flat(), { minCount: config.vocab.minCount, maxSize: config.vocab.maxSize });
  const maxLength = config.vocab.maxCaptionLength;
  return {
    format: dataset.format,
    source: dataset.source,
    vocabulary,
    train: buildSplit(trainName, trainImages, tokenizedTrain, vocabulary, maxLength),
    val: buildSplit(valName, valImages, valImages.map((image) => image.captions.map(tokenizeCaption)), vocabulary, maxLength),
    splitSource: source,
    skippedImages: [],
  };
}

export function buildSplit(
  name: SplitName,
  images: DatasetImage[],
  tokenized: string[][][],
  vocabulary: Vocabulary,
  maxLength: number,
): SplitData {
  const captions: CaptionItem[] = [];
  const references: string[][] = [];
  tokenized.forEach((captionsOfImage, image) => {
    references.push(captionsOfImage.filter((words) => words.length > 0).map((words) => words.join(' ')));
    for (const words of captionsOfImage) {
      if (words.length === 0) continue;
      const padded = encodeTokens(words, vocabulary, maxLength);
      captions.push({ image, tokens: padded.slice(0, padded.indexOf(END_ID) + 1) });
    }
  });
  return { name, images, captions, references };
}

/** Keeps only images that decoded, renumbering caption image indices. */
export function withoutImages(split: SplitData, failed: ReadonlySet<number>): SplitData {
  if (failed.size === 0) return split;
  const newIndex = new Map<number, number>();
  const images: DatasetImage[] = [];
  const references: string[][] = [];
  split.images.forEach((image, index) => {
    if (failed.has(index)) return;
    newIndex.set(index, images.length);
    images.push(image);
    references.push(split.references[index]!);
  });
  const captions = split.captions.filter((c) => newIndex.has(c.image)).map((c) => ({ image: newIndex.get(c.image)!, tokens: c.tokens }));
  return { name: split.name, images, captions, references };
}
