/**
 * The model package's caption.mjs re-implements the decoder and the decoding
 * with plain tfjs ops from the exported weights. Here it must agree with the
 * engine's CaptionDecoder and decode() step for step, for every variant.
 */
import * as tf from '@tensorflow/tfjs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { decode } from '../../src/main/ml/infer/decode';
import type { DecodeOptions } from '../../src/main/ml/infer/types';
import { ScratchCnn } from '../../src/main/ml/model/encoders/scratchCnn';
import { Rng } from '../../src/main/ml/model/rng';
import { scratchPooling } from '../../src/main/ml/packages/pooling';
import { writeWeightsModel } from '../../src/main/ml/packages/weightsFile';
import { tinyDecoder, tinyFeatures, useTestBackend, disposeFeatures } from '../helpers/captionModel';
import { tempDir } from '../helpers/evalFixtures';

interface ScriptState {
  layers: { h: tf.Tensor2D; c?: tf.Tensor2D }[];
}
interface CaptionScript {
  loadWeights(tfjs: typeof tf, path: string): { weights: Record<string, tf.Tensor> };
  initialState(tfjs: typeof tf, w: Record<string, tf.Tensor>, d: object, features: object): ScriptState;
  step(tfjs: typeof tf, w: Record<string, tf.Tensor>, d: object, tokens: tf.Tensor1D, state: ScriptState): { logProbs: tf.Tensor2D; state: ScriptState };
  decodeTokens(model: object, features: object, overrides?: object): number[];
  loadEncoder(tfjs: typeof tf, dir: string, spec: object): Promise<{ encode(images: tf.Tensor4D): { pooled: tf.Tensor2D; grid: tf.Tensor3D } }>;
}

let script: CaptionScript;

beforeAll(async () => {
  await useTestBackend();
  // A plain JavaScript file shipped in every package: imported by URL, typed by the interface above.
  script = (await import(pathToFileURL(join(__dirname, '..', '..', 'resources', 'model-package', 'caption.mjs')).href)) as CaptionScript;
});

const VARIANTS = ['init-inject', 'merge', 'attention'] as const;
const CELLS = ['lstm', 'gru'] as const;

async function exported(variant: (typeof VARIANTS)[number], cell: (typeof CELLS)[number], layers: number, wordQuery = false, wordGlimpse = false, glimpseWords?: number, coverage = false) {
  const decoder = tinyDecoder({ variant, cell, layers, wordQuery, wordGlimpse, coverage, ...(glimpseWords ? { glimpseWords } : {}) }, 5);
  // The word, previous-glimpse and coverage kernels start at zero; with values, the script must really use them.
  for (const name of [...(wordQuery ? ['attention/wordKernel'] : []), ...(wordGlimpse ? ['wordGlimpse/outputKernel'] : []), ...(coverage ? ['attention/coverageKernel'] : [])]) {
    const kernel = decoder.params.get(name);
    kernel.assign(tf.randomUniform(kernel.shape, -0.5, 0.5, 'float32', 3));
  }
  const dir = tempDir('captioner-package-');
  writeWeightsModel(dir, await decoder.params.serialize(), { format: 'captioner-decoder', generatedBy: 'test', modelTopology: {} });
  const { weights } = script.loadWeights(tf, join(dir, 'model.json'));
  const config = { variant, cell, layers, vocabSize: 13, embeddingDim: 6, units: 5, attentionDim: 4, featureDim: 7, ...(wordQuery ? { wordQuery } : {}), ...(wordGlimpse ? { wordGlimpse } : {}), ...(glimpseWords ? { glimpseWords } : {}), ...(coverage ? { coverage } : {}) };
  return { decoder, weights, config };
}

function row(features: ReturnType<typeof tinyFeatures>, index: number) {
  const rows = tf.tensor1d([index], 'int32');
  const one = { pooled: tf.gather(features.pooled!, rows) as tf.Tensor2D, grid: tf.gather(features.grid!, rows) as tf.Tensor3D };
  rows.dispose();
  return one;
}

describe('caption.mjs decoder', () => {
  const cases = VARIANTS.flatMap((variant) => CELLS.flatMap((cell) => [1, 2].map((layers) => [variant, cell, layers, false, false] as const)));
  const wordQueryCases = CELLS.flatMap((cell) => [1, 2].map((layers) => ['attention', cell, layers, true, false] as const));
  const wordGlimpseCases = CELLS.flatMap((cell) => [1, 2].map((layers) => ['attention', cell, layers, true, true] as const));
  // The script reads how many words lead the glimpse from its query kernel's shape.
  const longerGlimpseCases = CELLS.map((cell) => ['attention', cell, 1, true, true, 4] as const);
  // Coverage: the script must carry the attention's running sum from step to step, and through beam search's row picks.
  const coverageCases = CELLS.flatMap((cell) => [1, 2].map((layers) => ['attention', cell, layers, true, true, undefined, true] as const));
  for (const [variant, cell, layers, wordQuery, wordGlimpse, glimpseWords = undefined, coverage = false] of [...cases, ...wordQueryCases, ...wordGlimpseCases, ...longerGlimpseCases, ...coverageCases]) {
    it(`${variant}/${cell}/${layers}${wordQuery ? ', word in the attention query' : ''}${wordGlimpse ? ', word glimpse in the output' : ''}${glimpseWords ? ` led by ${glimpseWords} words` : ''}${coverage ? ', coverage' : ''}: same log-probabilities and captions as the engine`, async () => {
      const { decoder, weights, config } = await exported(variant, cell, layers, wordQuery, wordGlimpse, glimpseWords, coverage);
      const features = tinyFeatures(3);
      // Teacher-forced steps: identical log-probabilities.
      tf.tidy(() => {
        let engineState = decoder.initialState(features);
        let scriptState = script.initialState(tf, weights, config, features);
        // Five steps, so a glimpse led by 4 words drops its oldest word at least once.
        for (const tokens of [[1, 1, 1], [4, 7, 8], [5, 2, 9], [3, 6, 10], [11, 4, 2]]) {
          const input = tf.tensor1d(tokens, 'int32');
          const engine = decoder.step(input, engineState);
          const mine = script.step(tf, weights, config, input, scriptState);
          const difference = tf.max(tf.abs(tf.sub(engine.logProbs, mine.logProbs))).dataSync()[0]!;
          // The word glimpse adds a sum of random-kernel products, and the float rounding that comes with it.
          expect(difference).toBeLessThan(wordGlimpse ? 5e-6 : 1e-6);
          engineState = engine.state;
          scriptState = mine.state;
        }
      });
      // Greedy and beam search with every constraint: the same words.
      const settings = { minLength: 2, maxLength: 6, noRepeatNgramSize: 2 };
      const model = { tf, config: { decoder: config, decoding: { strategy: 'greedy', ...settings, beamWidth: 1, lengthPenalty: 0 } }, decoder: weights };
      for (const options of [
        { strategy: 'greedy', ...settings },
        { strategy: 'beam', beamWidth: 3, lengthPenalty: 0.7, ...settings },
      ] as DecodeOptions[]) {
        const engineCaptions = decode(decoder, features, options);
        for (let image = 0; image < 3; image++) {
          const one = row(features, image);
          expect(script.decodeTokens(model, one, options)).toEqual(engineCaptions[image]!.tokens);
          disposeFeatures(one);
        }
      }
      disposeFeatures(features);
      decoder.dispose();
      tf.dispose(Object.values(weights));
    });
  }

  it.each([
    ['attention/lstm/2', false, undefined],
    ['attention/lstm/1 with a word glimpse led by 4 words', true, 4],
  ] as const)('%s: releases every tensor it makes while decoding', async (_, glimpse, glimpseWords) => {
    const { decoder, weights, config } = await exported('attention', 'lstm', glimpse ? 1 : 2, glimpse, glimpse, glimpseWords);
    const features = row(tinyFeatures(1), 0);
    const model = { tf, config: { decoder: config, decoding: { strategy: 'beam', beamWidth: 3, lengthPenalty: 1, minLength: 1, maxLength: 8, noRepeatNgramSize: 0 } }, decoder: weights };
    script.decodeTokens(model, features);
    const before = tf.memory().numTensors;
    script.decodeTokens(model, features);
    script.decodeTokens(model, features, { strategy: 'greedy' });
    expect(tf.memory().numTensors).toBe(before);
    disposeFeatures(features);
    decoder.dispose();
    tf.dispose(Object.values(weights));
  });
});

describe('caption.mjs scratch CNN', () => {
  it.each([
    [false, false, 1],
    [true, false, 1],
    [false, true, 1],
    [true, true, 1],
    [true, true, 2],
    [true, true, 1, 2],
    [true, true, 1, 3],
    [true, true, 1, 2, true],
    [false, true, 2, 2, true],
  ] as const)('computes the engine\'s grid and pooled features from the exported weights (grid coordinates: %s, directions: %s, stem stride: %s, grid cells: %s, separate cells: %s)', async (coordinates, directions, stemStride, gridCells?: number, separateCells: boolean = false) => {
    const size = 32 * stemStride;
    const encoder = new ScratchCnn({ inputSize: size, channels: 4, coordinates, directions, stemStride, gridCells, separateCells }, new Rng(8));
    const dir = tempDir('captioner-encoder-');
    writeWeightsModel(dir, await encoder.params.serialize(), { format: 'captioner-scratch-cnn', generatedBy: 'test', modelTopology: {} });
    const spec = { kind: 'scratch-cnn', path: 'model.json', blocks: 4, pooling: scratchPooling(encoder), coordinates, directions, stemStride, gridCells, separateCells };
    const mine = await script.loadEncoder(tf, dir, spec);
    const rng = new Rng(2);
    const images = tf.tensor4d(Float32Array.from({ length: 2 * size * size * 3 }, () => rng.next()), [2, size, size, 3]);
    const expected = encoder.encode(images);
    const actual = mine.encode(images);
    const gap = (a: tf.Tensor, b: tf.Tensor) => tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]!);
    expect(actual.grid.shape).toEqual(expected.grid.shape);
    expect(actual.grid.shape[1]).toBe((gridCells ?? 4) ** 2);
    expect(actual.grid.shape[2]).toBe(32 + (coordinates ? 2 : 0) + (directions ? 32 : 0));
    expect(gap(actual.grid, expected.grid)).toBeLessThan(1e-6);
    expect(gap(actual.pooled, expected.pooled)).toBeLessThan(1e-6);
    // The two images differ, and so do their features: the comparison is not between constants.
    expect(gap(tf.slice(expected.pooled, [0, 0], [1, -1]), tf.slice(expected.pooled, [1, 0], [1, -1]))).toBeGreaterThan(1e-4);
    tf.dispose([images, expected.grid, expected.pooled, actual.grid, actual.pooled]);
    encoder.dispose();
  });
});
