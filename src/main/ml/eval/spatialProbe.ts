/**
 * The model side of the Shapes spatial probe (the caption side, which words
 * say where and what their opposite is, is src/main/lib/data/shapes/spatialProbe.ts):
 * every reference caption of a split is fed to the decoder word by word
 * (teacher forcing), and at each word that says where the probability of the
 * true side is compared with the opposite side's. It tells whether a model
 * knows where things are, apart from what beam search chooses to state and
 * from misnamed objects. Used by `npm run bench -- shapes-spatial` and by the
 * spatial training test.
 */
import * as tf from '@tensorflow/tfjs';
import { join } from 'node:path';
import { decodeImages } from '../../lib/data/images/loader';
import { normalizePixels } from '../../lib/data/images/normalize';
import { loadScenes } from '../../lib/data/shapes/grounded';
import type { SceneObject } from '../../lib/data/shapes/scene';
import { relationDecidedBy, spatialProbeItems, type RelationDecidedBy, type SpatialProbeItem, type SpatialProbeKind } from '../../lib/data/shapes/spatialProbe';
import { tokenizeCaption } from '../../lib/data/text/tokenize';
import { START_ID } from '../../lib/data/text/vocabulary';
import { readReferences } from '../../lib/eval/references';
import type { InferenceModel } from '../captioning/model';

const IMAGES_PER_BATCH = 20;

interface Row {
  image: number;
  tokens: string[];
  items: SpatialProbeItem[];
  objects: readonly SceneObject[];
}

/**
 * One kind of spatial word, over all scenes or those with `objects` objects;
 * for relation words also split by what decides their side (`decidedBy`,
 * relationDecidedBy in lib/data/shapes/spatialProbe.ts).
 */
export interface SpatialProbeTally {
  kind: SpatialProbeKind;
  objects: number | 'all';
  decidedBy?: RelationDecidedBy;
  /** How often the true side was the likelier. */
  accuracy: number;
  /** The true side's mean share of the pair's probability; 0.5 is chance. */
  trueShare: number;
  items: number;
}

/** What a tally counts: its kind of word, scenes and, for relations, what decides the side. */
type TallyGroup = Pick<SpatialProbeTally, 'kind' | 'objects' | 'decidedBy'>;

export interface SpatialProbeResult {
  tallies: SpatialProbeTally[];
  /** Reference words the model's vocabulary does not have (probed as <unk>). */
  wordsOutsideVocabulary: string[];
}

/** log p of every word at every position of the rows' captions, teacher-forced: [rows, steps, vocab] flattened. */
function teacherForcedLogProbs(model: InferenceModel, pixels: Float32Array, images: number, rows: readonly Row[]): { values: Float32Array; steps: number; vocab: number } {
  const size = model.preprocessing.inputSize;
  const steps = Math.max(...rows.map((row) => row.tokens.length));
  const inputs = new Int32Array(rows.length * steps);
  const mask = new Float32Array(rows.length * steps);
  rows.forEach((row, r) => {
    // Input t is the word before token t (<start> first), so output t scores token t.
    [START_ID, ...row.tokens.slice(0, -1).map((word) => model.vocabulary.id(word))].forEach((id, t) => {
      inputs[r * steps + t] = id;
      mask[r * steps + t] = 1;
    });
  });
  const logProbs = tf.tidy(() => {
    const encoded = model.encoder.encode(tf.tensor4d(pixels, [images, size, size, 3]));
    const perRow = tf.tensor1d(rows.map((row) => row.image), 'int32');
    const features = {
      pooled: tf.gather(encoded.pooled, perRow) as tf.Tensor2D,
      ...(encoded.grid ? { grid: tf.gather(encoded.grid, perRow) as tf.Tensor3D } : {}),
    };
    const { logits } = model.decoder.forward(features, tf.tensor2d(inputs, [rows.length, steps], 'int32'), tf.tensor2d(mask, [rows.length, steps]), { training: false });
    return tf.logSoftmax(logits);
  });
  const values = logProbs.dataSync() as Float32Array;
  const vocab = logProbs.shape[1]!;
  logProbs.dispose();
  return { values, steps, vocab };
}

/** Probes `model` on the references of `split` of the `captioner synth` folder `datasetDir`. */
export async function probeSpatial(model: InferenceModel, datasetDir: string, split = 'test'): Promise<SpatialProbeResult> {
  const references = readReferences(join(datasetDir, 'dataset_shapes.json'));
  const scenes = await loadScenes(join(datasetDir, 'scenes.json'));
  const objectsOf = new Map(scenes.images.map((image) => [image.filename, image.scene.objects]));
  const images = references.images.filter((image) => image.split === split);
  if (images.length === 0) throw new Error(`${datasetDir}: no images in the ${split} split.`);
  const unknown = new Set<string>();
  const tallies = new Map<string, { group: TallyGroup; right: number; share: number; items: number }>();
  const count = (group: TallyGroup, right: boolean, share: number) => {
    const key = `${group.kind}/${group.objects}/${group.decidedBy ?? ''}`;
    const tally = tallies.get(key) ?? { group, right: 0, share: 0, items: 0 };
    tally.items += 1;
    tally.share += share;
    if (right) tally.right += 1;
    tallies.set(key, tally);
  };
  const { inputSize, fit, normalization, maxPixels } = model.preprocessing;
  const stride = inputSize * inputSize * 3;
  for (let start = 0; start < images.length; start += IMAGES_PER_BATCH) {
    const batch = images.slice(start, start + IMAGES_PER_BATCH);
    const files = batch.map((image) => join(datasetDir, 'Images', image.fileName ?? image.imageId));
    const decoded = await decodeImages(files, { size: inputSize, fit, maxPixels });
    if (decoded.errors.length) throw new Error(`Cannot read ${decoded.errors[0]!.file}: ${decoded.errors[0]!.message}`);
    const pixels = new Float32Array(batch.length * stride);
    decoded.images.forEach((image, i) => normalizePixels(image!, normalization, pixels, i * stride));
    const rows: Row[] = batch
      .flatMap((image, i) =>
        image.captions.map((caption) => {
          const tokens = [...tokenizeCaption(caption), '<end>'];
          for (const word of tokens) if (word !== '<end>' && model.vocabulary.id(word) === model.vocabulary.id('<unk>')) unknown.add(word);
          return { image: i, tokens, items: spatialProbeItems(tokens.slice(0, -1)), objects: objectsOf.get(image.fileName ?? image.imageId) ?? [] };
        }),
      )
      .filter((row) => row.items.length > 0);
    if (rows.length === 0) continue;
    const { values: logProbs, steps, vocab } = teacherForcedLogProbs(model, pixels, batch.length, rows);
    rows.forEach((row, r) => {
      for (const item of row.items) {
        const p = (words: readonly string[]) => words.reduce((sum, word) => sum + Math.exp(logProbs[(r * steps + item.index) * vocab + model.vocabulary.id(word)]!), 0);
        const truth = p(item.truth);
        const opposite = p(item.opposite);
        const share = truth / Math.max(1e-30, truth + opposite);
        const right = truth > opposite;
        count({ kind: item.kind, objects: row.objects.length }, right, share);
        count({ kind: item.kind, objects: 'all' }, right, share);
        const decidedBy = relationDecidedBy(row.objects, row.tokens.slice(0, -1), item);
        if (decidedBy) count({ kind: item.kind, objects: 'all', decidedBy }, right, share);
      }
    });
  }
  return {
    tallies: [...tallies]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([, tally]) => ({ ...tally.group, accuracy: tally.right / tally.items, trueShare: tally.share / tally.items, items: tally.items })),
    wordsOutsideVocabulary: [...unknown],
  };
}
