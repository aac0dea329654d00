/**
 * Exporting a model whose encoder is the scratch CNN with every option the
 * `shapes-grounded` preset turns on (a 5×5 stem at stride 2, grid directions
 * and coordinates; the word in the attention query and the word glimpse):
 * config.json records them, and the checkpoint, the loaded package and the
 * package's caption.mjs caption images identically.
 */
import * as tf from '@tensorflow/tfjs';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { captionFiles } from '../../src/main/ml/captioning/captionImages';
import { completeDecoding } from '../../src/main/ml/captioning/decoding';
import { loadCheckpointModel } from '../../src/main/ml/captioning/model';
import { Vocabulary } from '../../src/main/lib/data/text/vocabulary';
import { CaptionDecoder } from '../../src/main/ml/model/decoder';
import { addedChannels, ScratchCnn } from '../../src/main/ml/model/encoders/scratchCnn';
import { Rng } from '../../src/main/ml/model/rng';
import { exportPackage } from '../../src/main/ml/packages/exportPackage';
import { loadPackageModel } from '../../src/main/ml/packages/loadPackage';
import { writeCheckpoint, type TrainingState } from '../../src/main/ml/train/checkpoint';
import { runConfigSchema } from '../../src/shared/runConfig';
import { useTestBackend } from '../helpers/captionModel';
import { tempDir } from '../helpers/evalFixtures';
import { randomImageFiles } from '../helpers/imageFiles';

interface CaptionScript {
  captionImages(files: string[], overrides: object, options: { tf: typeof tf; sharp: typeof sharp; quiet: boolean; dir: string }): Promise<{ image: string; caption: string }[]>;
}

beforeAll(useTestBackend);

describe('model package with the scratch CNN', () => {
  it('records a strided stem, directions and coordinates, and captions like the checkpoint in the engine and in caption.mjs', async () => {
    const dir = tempDir('captioner-scratch-');
    const vocabulary = Vocabulary.build([['a', 'red', 'circle'], ['a', 'blue', 'square', 'left', 'of'], ['two', 'shapes', 'above']], { minCount: 1 });
    const encoderOptions = { inputSize: 64, channels: 4, stemStride: 2, coordinates: true, directions: true } as const;
    const config = runConfigSchema.parse({
      dataset: { path: join(dir, 'unused') },
      encoder: { source: 'scratch-cnn', imageSize: 64, scratchChannels: 4, scratchStemStride: 2, gridCoordinates: true, gridDirections: true },
      decoder: { variant: 'attention', embeddingDim: 128, units: 128, attentionDim: 32, attentionWordQuery: true, attentionWordGlimpse: true },
      vocab: { maxCaptionLength: 6 },
    });
    const encoder = new ScratchCnn(encoderOptions, new Rng(2));
    const decoder = new CaptionDecoder(
      {
        variant: 'attention',
        cell: 'lstm',
        layers: 1,
        vocabSize: vocabulary.size,
        embeddingDim: 128,
        units: 128,
        dropout: 0,
        attentionDim: 32,
        doublyStochasticWeight: 0,
        featureDim: encoder.spec.pooledDim,
        addedChannels: addedChannels(encoderOptions),
        wordQuery: true,
        wordGlimpse: true,
      },
      new Rng(3),
    );
    // Weights that start at zero get values, so a package that dropped one would caption differently.
    for (const [name, variable] of decoder.params.entries()) {
      if (tf.tidy(() => tf.max(tf.abs(variable)).dataSync()[0]) === 0) variable.assign(tf.randomUniform(variable.shape, -0.5, 0.5, 'float32', name.length));
    }
    const checkpoint = join(dir, 'checkpoint');
    await writeCheckpoint(checkpoint, {
      json: {
        backend: 'cpu',
        config,
        decoder: decoder.options,
        encoder: { id: 'scratch-cnn', inputSize: 64, normalization: 'zero-to-one', channels: 4, stemStride: 2, coordinates: true, directions: true, source: null, featureLayer: null, weightsIncluded: true },
        vocabulary: vocabulary.toJson(),
        state: {} as TrainingState,
        metrics: {},
      },
      weights: [
        ...(await decoder.params.serialize()).map((tensor) => ({ ...tensor, name: `decoder/${tensor.name}` })),
        ...(await encoder.params.serialize()).map((tensor) => ({ ...tensor, name: `encoder/${tensor.name}` })),
      ],
      optimizer: null,
    });
    decoder.dispose();
    encoder.dispose();

    const out = join(dir, 'package');
    await exportPackage({
      checkpointPath: checkpoint,
      out,
      name: 'scratch-model',
      overwrite: false,
      dataDir: dir,
      source: { runId: null, runName: null, checkpoint: null },
      decoding: { strategy: 'beam', beamWidth: 2 },
      metrics: {},
      evaluation: null,
    });
    const written = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8')) as { encoder: Record<string, unknown> };
    expect(written.encoder).toMatchObject({ kind: 'scratch-cnn', inputSize: 64, stemStride: 2, coordinates: true, directions: true, gridShape: [4, 4, 32 + 34] });
    expect(readFileSync(join(out, 'README.md'), 'utf8')).toContain('the first 5x5 at stride 2');

    const files = await randomImageFiles(dir);
    const settings = completeDecoding({ strategy: 'beam', beamWidth: 2 }, 6);
    const fromCheckpoint = await loadCheckpointModel(checkpoint, { dataDir: dir });
    const expected = await captionFiles(fromCheckpoint, files, settings);
    fromCheckpoint.dispose();
    expect(expected.every((result) => typeof result.caption === 'string' && result.tokens.length > 0)).toBe(true);

    const fromPackage = await loadPackageModel(out);
    expect(fromPackage.encoderRecord.stemStride).toBe(2);
    expect((await captionFiles(fromPackage, files, settings)).map((result) => result.caption)).toEqual(expected.map((result) => result.caption));
    fromPackage.dispose();

    const script = (await import(pathToFileURL(join(out, 'caption.mjs')).href)) as CaptionScript;
    const fromScript = await script.captionImages(files, {}, { tf, sharp, quiet: true, dir: out });
    expect(fromScript.map((result) => result.caption)).toEqual(expected.map((result) => result.caption));
  });
});
