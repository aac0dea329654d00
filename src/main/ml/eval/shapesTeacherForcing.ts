/**
 * What the Shapes probes share (spatialProbe.ts, attentionProbe.ts): a
 * split's images read in batches beside their scenes and reference captions,
 * and the decoder fed those captions word by word (teacher forcing), so a
 * probe can read what the model predicts or where it looks at any word.
 */
import * as tf from '@tensorflow/tfjs';
import { join } from 'node:path';
import { decodeImages } from '../../lib/data/images/loader';
import { normalizePixels } from '../../lib/data/images/normalize';
import { loadScenes } from '../../lib/data/shapes/grounded';
import type { Scene } from '../../lib/data/shapes/scene';
import { tokenizeCaption } from '../../lib/data/text/tokenize';
import { START_ID } from '../../lib/data/text/vocabulary';
import { readReferences } from '../../lib/eval/references';
import type { InferenceModel } from '../captioning/model';

const IMAGES_PER_BATCH = 20;

/** One batch of a split: its images' pixels, and per image its scene and reference captions as tokens (`<end>` last). */
export interface ShapesBatch {
  pixels: Float32Array;
  images: { scene: Scene; captions: string[][] }[];
}

/** The batches of `split` of the `captioner synth` folder `datasetDir`, preprocessed for `model`. */
export async function* shapesBatches(model: InferenceModel, datasetDir: string, split: string): AsyncGenerator<ShapesBatch> {
  const references = readReferences(join(datasetDir, 'dataset_shapes.json'));
  const scenes = await loadScenes(join(datasetDir, 'scenes.json'));
  const sceneOf = new Map(scenes.images.map((image) => [image.filename, image.scene]));
  const images = references.images.filter((image) => image.split === split);
  if (images.length === 0) throw new Error(`${datasetDir}: no images in the ${split} split.`);
  const { inputSize, fit, normalization, maxPixels } = model.preprocessing;
  const stride = inputSize * inputSize * 3;
  for (let start = 0; start < images.length; start += IMAGES_PER_BATCH) {
    const batch = images.slice(start, start + IMAGES_PER_BATCH);
    const names = batch.map((image) => image.fileName ?? image.imageId);
    const decoded = await decodeImages(
      names.map((name) => join(datasetDir, 'Images', name)),
      { size: inputSize, fit, maxPixels },
    );
    if (decoded.errors.length) throw new Error(`Cannot read ${decoded.errors[0]!.file}: ${decoded.errors[0]!.message}`);
    const pixels = new Float32Array(batch.length * stride);
    decoded.images.forEach((image, i) => normalizePixels(image!, normalization, pixels, i * stride));
    yield {
      pixels,
      images: batch.map((image, i) => {
        const scene = sceneOf.get(names[i]!);
        if (!scene) throw new Error(`${join(datasetDir, 'scenes.json')}: no scene for ${names[i]}.`);
        return { scene, captions: image.captions.map((caption) => [...tokenizeCaption(caption), '<end>']) };
      }),
    };
  }
}

/** A caption fed to the decoder: the batch image it describes and its tokens (`<end>` last). */
export interface ForcedRow {
  image: number;
  tokens: readonly string[];
}

/**
 * The rows' captions teacher-forced over the batch's images: at every
 * position t (output t scores token t; its input is token t − 1, <start>
 * first) the log-probabilities of every word [rows, steps, vocab] and the
 * attention weights over the grid [rows, steps, regions] (null for a decoder
 * without attention), flattened.
 */
export function teacherForce(model: InferenceModel, pixels: Float32Array, images: number, rows: readonly ForcedRow[]): { logProbs: Float32Array; attention: Float32Array | null; steps: number; vocab: number; regions: number } {
  const size = model.preprocessing.inputSize;
  const steps = Math.max(...rows.map((row) => row.tokens.length));
  const inputs = new Int32Array(rows.length * steps);
  const mask = new Float32Array(rows.length * steps);
  rows.forEach((row, r) => {
    [START_ID, ...row.tokens.slice(0, -1).map((word) => model.vocabulary.id(word))].forEach((id, t) => {
      inputs[r * steps + t] = id;
      mask[r * steps + t] = 1;
    });
  });
  const { logProbs, attention } = tf.tidy(() => {
    const encoded = model.encoder.encode(tf.tensor4d(pixels, [images, size, size, 3]));
    const perRow = tf.tensor1d(rows.map((row) => row.image), 'int32');
    const features = {
      pooled: tf.gather(encoded.pooled, perRow) as tf.Tensor2D,
      ...(encoded.grid ? { grid: tf.gather(encoded.grid, perRow) as tf.Tensor3D } : {}),
    };
    const out = model.decoder.forward(features, tf.tensor2d(inputs, [rows.length, steps], 'int32'), tf.tensor2d(mask, [rows.length, steps]), { training: false });
    return { logProbs: tf.logSoftmax(out.logits) as tf.Tensor2D, ...(out.attention ? { attention: out.attention } : {}) };
  }) as { logProbs: tf.Tensor2D; attention?: tf.Tensor3D };
  const result = {
    logProbs: logProbs.dataSync() as Float32Array,
    attention: attention ? (attention.dataSync() as Float32Array) : null,
    steps,
    vocab: logProbs.shape[1]!,
    regions: attention ? attention.shape[2]! : 0,
  };
  tf.dispose([logProbs, ...(attention ? [attention] : [])]);
  return result;
}
