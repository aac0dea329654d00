/**
 * Exporting a model whose encoder is a pretrained TensorFlow.js backbone (a
 * small layers model built here, features from a named convolution): the
 * package copies the backbone, and the checkpoint, the loaded package and the
 * package's caption.mjs caption images identically.
 */
import * as tf from '@tensorflow/tfjs';
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { Vocabulary } from '../../src/main/lib/data/text/vocabulary';
import { CaptionDecoder } from '../../src/main/ml/model/decoder';
import { folderSaveHandler, readModelFolder } from '../../src/main/ml/model/encoders/modelFiles';
import { Rng } from '../../src/main/ml/model/rng';
import { loadPackageModel } from '../../src/main/ml/packages/loadPackage';
import { verifyCaptionScript } from '../../src/main/ml/packages/verifyScript';
import { runConfigSchema } from '../../src/shared/runConfig';
import { useTestBackend } from '../helpers/captionModel';
import { tempDir } from '../helpers/evalFixtures';
import { randomImageFiles } from '../helpers/imageFiles';
import { captionThreeWays, exportTestPackage, writeTestCheckpoint } from '../helpers/packageCaptions';

beforeAll(useTestBackend);

async function backboneFolder(dir: string): Promise<void> {
  const input = tf.input({ shape: [16, 16, 3] });
  const features = tf.layers.conv2d({ filters: 4, kernelSize: 3, padding: 'same', activation: 'relu', name: 'features', seed: 1 } as never).apply(input) as tf.SymbolicTensor;
  const pooled = tf.layers.globalAveragePooling2d({}).apply(features) as tf.SymbolicTensor;
  const output = tf.layers.dense({ units: 3, name: 'logits' }).apply(pooled) as tf.SymbolicTensor;
  const model = tf.model({ inputs: input, outputs: output });
  // Distinct, deterministic weights (the default initializers draw from an unseeded generator).
  const rng = new Rng(9);
  for (const weight of model.weights) weight.write(tf.tensor(Float32Array.from({ length: weight.shape.reduce((a, b) => a! * b!, 1)! }, () => rng.normal() * 0.5), weight.shape as number[]));
  await model.save(folderSaveHandler(dir));
  model.dispose();
}

describe('model package with a TensorFlow.js backbone', () => {
  it.each([false, true])('copies the backbone and captions like the checkpoint, in the engine and in caption.mjs (word in the attention query: %s)', async (wordQuery) => {
    const dir = tempDir('captioner-backbone-');
    const modelDir = join(dir, 'backbone');
    await backboneFolder(modelDir);
    const vocabulary = Vocabulary.build([['a', 'red', 'circle'], ['a', 'blue', 'square', 'left'], ['two', 'shapes']], { minCount: 1 });
    const config = runConfigSchema.parse({
      dataset: { path: join(dir, 'unused') },
      encoder: { source: modelDir, featureLayer: 'features', imageSize: 16 },
      decoder: { variant: 'attention', embeddingDim: 128, units: 128, attentionDim: 32, attentionWordQuery: wordQuery },
      vocab: { maxCaptionLength: 6 },
    });
    const decoder = new CaptionDecoder(
      { variant: 'attention', cell: 'lstm', layers: 1, vocabSize: vocabulary.size, embeddingDim: 128, units: 128, dropout: 0, attentionDim: 32, doublyStochasticWeight: 0, featureDim: 4, wordQuery },
      new Rng(3),
    );
    // The word kernel starts at zero: give it values, so a package that dropped it would caption differently.
    if (wordQuery) decoder.params.get('attention/wordKernel').assign(tf.randomUniform([128, 32], -1, 1, 'float32', 5));
    const checkpoint = await writeTestCheckpoint(dir, {
      config,
      decoder,
      encoder: { id: modelDir, inputSize: 16, normalization: 'zero-to-one', channels: null, source: modelDir, featureLayer: 'features', weightsIncluded: false },
      vocabulary,
    });
    decoder.dispose();

    const { out, info } = await exportTestPackage(checkpoint, dir, 'backbone-model');
    expect(info.encoder).toEqual({ kind: 'layers', id: modelDir, inputSize: 16 });
    expect((await readModelFolder(join(out, 'encoder'))).format).toBe('layers');

    const captions = await captionThreeWays(checkpoint, out, dir, await randomImageFiles(dir), 6);
    expect(captions.checkpoint.every((caption) => typeof caption === 'string')).toBe(true);
    expect(captions.package).toEqual(captions.checkpoint);
    expect(captions.script).toEqual(captions.checkpoint);

    // A caption.mjs that drifted from the engine (here: mean-pooled features become max-pooled) is caught.
    const drifted = join(dir, 'drifted');
    cpSync(out, drifted, { recursive: true });
    const source = readFileSync(join(drifted, 'caption.mjs'), 'utf8');
    writeFileSync(join(drifted, 'caption.mjs'), source.replace('return { grid, pooled: tf.mean(grid, 1) };', 'return { grid, pooled: tf.max(grid, 1) };'));
    const reference = await loadPackageModel(out);
    await expect(verifyCaptionScript(drifted, reference)).rejects.toThrow(/caption\.mjs does not reproduce this model's encoder/);
    await expect(verifyCaptionScript(out, reference)).resolves.toBeUndefined();
    reference.dispose();
  });
});
