/**
 * `npm run bench -- shapes-spatial --checkpoint DIR --dataset DIR [--split test]`
 *
 * The spatial probe (src/main/lib/data/shapes/spatialProbe.ts) of a trained
 * Shapes checkpoint: every reference caption of the split is fed to the
 * decoder word by word (teacher forcing), and at each word that says where
 * ("top", "left" of a position phrase; "left", "under" of a relation) the
 * probability of the true side is compared with the opposite side's. One
 * JSON line per kind of word and number of objects in the scene, then one
 * per kind: `accuracy` (the true side more likely), `trueShare` (its mean
 * share of the pair's probability; 0.5 is chance) and `items`.
 *
 * It says whether the model knows where things are, apart from what beam
 * search chooses to state and from misnamed objects (docs/shapes-benchmark.md,
 * "Why relations and positions are wrong").
 *
 * `--checkpoint` is a checkpoint folder of a run (RUN_DIR/checkpoints/best,
 * or epoch-0007), `--dataset` the `captioner synth` folder it was trained on.
 */
import * as tf from '@tensorflow/tfjs';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { decodeImages } from '../src/main/lib/data/images/loader';
import { normalizePixels } from '../src/main/lib/data/images/normalize';
import { loadScenes } from '../src/main/lib/data/shapes/grounded';
import { spatialProbeItems, type SpatialProbeItem } from '../src/main/lib/data/shapes/spatialProbe';
import { tokenizeCaption } from '../src/main/lib/data/text/tokenize';
import { START_ID } from '../src/main/lib/data/text/vocabulary';
import { readReferences } from '../src/main/lib/eval/references';
import { initBackend } from '../src/main/ml/backend';
import { loadCheckpointModel, type InferenceModel } from '../src/main/ml/captioning/model';

const IMAGES_PER_BATCH = 20;

interface Row {
  image: number;
  tokens: string[];
  items: SpatialProbeItem[];
  objects: number;
}

interface Tally {
  right: number;
  share: number;
  items: number;
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

export async function run(args: string[]): Promise<void> {
  const { values } = parseArgs({ args, options: { checkpoint: { type: 'string' }, dataset: { type: 'string' }, split: { type: 'string', default: 'test' } } });
  if (!values.checkpoint || !values.dataset) throw new Error('Usage: npm run bench -- shapes-spatial --checkpoint DIR --dataset DIR [--split test]');
  const backend = await initBackend();
  const dataDir = mkdtempSync(join(tmpdir(), 'captioner-bench-shapes-spatial-'));
  const model = await loadCheckpointModel(values.checkpoint, { dataDir });
  try {
    const references = readReferences(join(values.dataset, 'dataset_shapes.json'));
    const scenes = await loadScenes(join(values.dataset, 'scenes.json'));
    const objectsOf = new Map(scenes.images.map((image) => [image.filename, image.scene.objects.length]));
    const images = references.images.filter((image) => image.split === values.split);
    if (images.length === 0) throw new Error(`${values.dataset}: no images in the ${values.split} split.`);
    const unknown = new Set<string>();
    const tallies = new Map<string, Tally>();
    const count = (key: string, right: boolean, share: number) => {
      const tally = tallies.get(key) ?? { right: 0, share: 0, items: 0 };
      tally.items += 1;
      tally.share += share;
      if (right) tally.right += 1;
      tallies.set(key, tally);
    };
    const { inputSize, fit, normalization, maxPixels } = model.preprocessing;
    const stride = inputSize * inputSize * 3;
    for (let start = 0; start < images.length; start += IMAGES_PER_BATCH) {
      const batch = images.slice(start, start + IMAGES_PER_BATCH);
      const files = batch.map((image) => join(values.dataset!, 'Images', image.fileName ?? image.imageId));
      const decoded = await decodeImages(files, { size: inputSize, fit, maxPixels });
      if (decoded.errors.length) throw new Error(`Cannot read ${decoded.errors[0]!.file}: ${decoded.errors[0]!.message}`);
      const pixels = new Float32Array(batch.length * stride);
      decoded.images.forEach((image, i) => normalizePixels(image!, normalization, pixels, i * stride));
      const rows: Row[] = batch.flatMap((image, i) =>
        image.captions.map((caption) => {
          const tokens = [...tokenizeCaption(caption), '<end>'];
          for (const word of tokens) if (word !== '<end>' && model.vocabulary.id(word) === model.vocabulary.id('<unk>')) unknown.add(word);
          return { image: i, tokens, items: spatialProbeItems(tokens.slice(0, -1)), objects: objectsOf.get(image.fileName ?? image.imageId) ?? 0 };
        }),
      ).filter((row) => row.items.length > 0);
      if (rows.length === 0) continue;
      const { values: logProbs, steps, vocab } = teacherForcedLogProbs(model, pixels, batch.length, rows);
      rows.forEach((row, r) => {
        for (const item of row.items) {
          const p = (words: readonly string[]) => words.reduce((sum, word) => sum + Math.exp(logProbs[(r * steps + item.index) * vocab + model.vocabulary.id(word)]!), 0);
          const truth = p(item.truth);
          const opposite = p(item.opposite);
          const share = truth / Math.max(1e-30, truth + opposite);
          count(`${item.kind}/${row.objects}`, truth > opposite, share);
          count(item.kind, truth > opposite, share);
        }
      });
    }
    for (const [key, tally] of [...tallies].sort(([a], [b]) => a.localeCompare(b))) {
      const [kind, objects] = key.split('/');
      process.stdout.write(
        `${JSON.stringify({
          bench: 'shapes-spatial',
          kind,
          objects: objects ? Number(objects) : 'all',
          accuracy: Number((tally.right / tally.items).toFixed(4)),
          trueShare: Number((tally.share / tally.items).toFixed(4)),
          items: tally.items,
          checkpoint: values.checkpoint,
          split: values.split,
          backend: backend.name,
          ...(unknown.size ? { wordsOutsideVocabulary: [...unknown] } : {}),
        })}\n`,
      );
    }
  } finally {
    model.dispose();
    rmSync(dataDir, { recursive: true, force: true });
  }
}
