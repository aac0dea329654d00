/**
 * The engine's caption explanation: the attention it reports for a word is
 * the attention the decoder used to produce that word (equal to what
 * decoding itself recorded), the log-probabilities are decoding's, the beam
 * alternatives contain decoding's best caption, and nothing leaks tensors.
 */
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { synthesizeShapes } from '../../src/main/lib/data/shapes/synth';
import { Vocabulary } from '../../src/main/lib/data/text/vocabulary';
import { captionFiles } from '../../src/main/ml/captioning/captionImages';
import type { InferenceModel } from '../../src/main/ml/captioning/model';
import { explainWithModel } from '../../src/main/ml/explain/explainCaption';
import { beamHypotheses } from '../../src/main/ml/explain/nbest';
import { replayCaption } from '../../src/main/ml/explain/replay';
import { diagnoseAttention, normalizedEntropy } from '../../src/main/ml/explain/uniformity';
import { decode } from '../../src/main/ml/infer/decode';
import type { DecodeOptions } from '../../src/main/ml/infer/types';
import type { DecoderFeatures } from '../../src/main/ml/model/decoder';
import { ScratchCnn } from '../../src/main/ml/model/encoders/scratchCnn';
import { Rng } from '../../src/main/ml/model/rng';
import { disposeFeatures, tinyDecoder, tinyFeatures, useTestBackend } from '../helpers/captionModel';
import { tempDir } from '../helpers/evalFixtures';

const VARIANTS = ['init-inject', 'merge', 'attention'] as const;

let features: DecoderFeatures;
beforeAll(async () => {
  await useTestBackend();
  features = tinyFeatures(3, 31);
});
afterAll(() => disposeFeatures(features));

function oneImage(image: number): DecoderFeatures {
  return {
    pooled: features.pooled!.slice([image, 0], [1, -1]),
    grid: features.grid!.slice([image, 0, 0], [1, -1, -1]),
  };
}

const SETTINGS: DecodeOptions[] = [
  { strategy: 'greedy', minLength: 1, maxLength: 7, noRepeatNgramSize: 0 },
  { strategy: 'beam', beamWidth: 3, lengthPenalty: 1, minLength: 2, maxLength: 7, noRepeatNgramSize: 2 },
  { strategy: 'beam', beamWidth: 4, lengthPenalty: 0.5, minLength: 0, maxLength: 6, noRepeatNgramSize: 0 },
  { strategy: 'sample', temperature: 1.2, topK: 0, topP: 1, seed: 3, minLength: 1, maxLength: 7, noRepeatNgramSize: 0 },
];

describe('replaying a caption', () => {
  for (const options of SETTINGS) {
    it(`attention and log-probabilities equal what ${options.strategy} decoding used`, () => {
      const decoder = tinyDecoder({ variant: 'attention', layers: 2 }, 9);
      for (let image = 0; image < 3; image++) {
        const one = oneImage(image);
        const [caption] = decode(decoder, one, options);
        const replay = replayCaption(decoder, one, caption!.tokens);
        expect(replay.tokenLogProbs).toHaveLength(caption!.tokens.length + 1);
        replay.tokenLogProbs.forEach((lp, t) => expect(lp).toBeCloseTo(caption!.tokenLogProbs[t]!, 5));
        expect(replay.attention).toHaveLength(caption!.attention!.length);
        replay.attention!.forEach((weights, t) => {
          expect(weights).toHaveLength(4);
          weights.forEach((w, region) => expect(w).toBeCloseTo(caption!.attention![t]![region]!, 6));
        });
        // Different words look at different places: the steps are not copies of one another.
        if (replay.attention!.length > 1) expect(replay.attention![0]).not.toEqual(replay.attention![1]);
        tf.dispose([one.pooled, one.grid]);
      }
      decoder.dispose();
    });
  }

  it('has no attention for decoders without it', () => {
    for (const variant of ['init-inject', 'merge'] as const) {
      const decoder = tinyDecoder({ variant }, 2);
      const one = oneImage(0);
      const [caption] = decode(decoder, one, SETTINGS[0]!);
      const replay = replayCaption(decoder, one, caption!.tokens);
      expect(replay.attention).toBeNull();
      replay.tokenLogProbs.forEach((lp, t) => expect(lp).toBeCloseTo(caption!.tokenLogProbs[t]!, 5));
      tf.dispose([one.pooled, one.grid]);
      decoder.dispose();
    }
  });
});

describe('beam alternatives', () => {
  for (const variant of VARIANTS) {
    it(`${variant}: the best alternative is the caption beam search returns, ranked by its score`, () => {
      for (const seed of [1, 2, 3]) {
        const decoder = tinyDecoder({ variant, cell: seed === 2 ? 'gru' : 'lstm' }, seed);
        for (const options of SETTINGS.filter((o) => o.strategy === 'beam')) {
          for (let image = 0; image < 3; image++) {
            const one = oneImage(image);
            const [best] = decode(decoder, one, options);
            const hypotheses = beamHypotheses(decoder, one, options as Extract<DecodeOptions, { strategy: 'beam' }>);
            expect(hypotheses.length).toBeGreaterThan(0);
            // The last step may finish several hypotheses at once: up to 2·width - 1.
            expect(hypotheses.length).toBeLessThan(2 * (options as { beamWidth: number }).beamWidth);
            expect(hypotheses[0]!.tokens).toEqual(best!.tokens);
            expect(hypotheses[0]!.score).toBeCloseTo(best!.score, 4);
            for (let i = 1; i < hypotheses.length; i++) expect(hypotheses[i - 1]!.score).toBeGreaterThanOrEqual(hypotheses[i]!.score);
            tf.dispose([one.pooled, one.grid]);
          }
        }
        decoder.dispose();
      }
    });
  }
});

describe('uniformity', () => {
  it('is 1 for uniform weights, 0 for one region, and flags nearly uniform attention', () => {
    expect(normalizedEntropy([0.25, 0.25, 0.25, 0.25])).toBeCloseTo(1, 10);
    expect(normalizedEntropy([1, 0, 0, 0])).toBe(0);
    expect(normalizedEntropy([0.7, 0.1, 0.1, 0.1])).toBeLessThan(0.75);
    const uniform = Array.from({ length: 49 }, () => 1 / 49);
    const peaked = Array.from({ length: 49 }, (_, i) => (i === 3 ? 0.5 : 0.5 / 48));
    expect(diagnoseAttention([uniform, uniform]).nearlyUniform).toBe(true);
    expect(diagnoseAttention([peaked, uniform]).nearlyUniform).toBe(false);
  });
});

describe('explaining an image file', () => {
  async function tinyModel(variant: 'attention' | 'merge'): Promise<{ model: InferenceModel; image: string }> {
    const dir = tempDir('captioner-explain-');
    await synthesizeShapes({ out: dir, images: 2, seed: 5, imageSize: 32 });
    const encoder = new ScratchCnn({ inputSize: 32, channels: 2 }, new Rng(3));
    const words = ['a', 'red', 'blue', 'circle', 'square', 'on', 'the', 'left', 'right'];
    const vocabulary = Vocabulary.build([words], { minCount: 1 });
    const decoder = tinyDecoder({ variant, vocabSize: vocabulary.size, featureDim: encoder.spec.gridShape[2] }, 4);
    const model: InferenceModel = {
      decoder,
      encoder,
      vocabulary,
      preprocessing: { inputSize: 32, fit: 'squash', normalization: 'zero-to-one', maxPixels: 1e7 },
      encoderRecord: { id: 'scratch-cnn', inputSize: 32, normalization: 'zero-to-one', channels: 2, source: null, featureLayer: null, weightsIncluded: true },
      runConfig: null,
      maxCaptionLength: 6,
      backbone: null,
      dispose() {
        decoder.dispose();
        encoder.params.dispose();
      },
    };
    return { model, image: join(dir, 'Images', 'shapes_000000.png') };
  }

  it('an attention model: words, their attention over the 4×4 grid, beam alternatives, a diagnosis; no tensor leaks', async () => {
    const { model, image } = await tinyModel('attention');
    await explainWithModel(model, image, { strategy: 'beam', beamWidth: 3 }, 3); // warm-up (kernels, caches)
    const before = tf.memory().numTensors;
    const explanation = await explainWithModel(model, image, { strategy: 'beam', beamWidth: 3 }, 3);
    expect(tf.memory().numTensors).toBe(before);
    expect(explanation.hasAttention).toBe(true);
    expect(explanation.grid).toEqual({ rows: 4, cols: 4 });
    expect(explanation.decoding.beamWidth).toBe(3);
    expect(explanation.decoding.maxLength).toBe(6);
    expect(explanation.captions[0]!.chosen).toBe(true);
    expect(explanation.captions.length).toBeGreaterThan(1);
    expect(explanation.captions.slice(1).every((c) => !c.chosen)).toBe(true);
    const captions = explanation.captions.map((c) => c.caption);
    expect(new Set(captions).size).toBe(captions.length);
    for (const caption of explanation.captions) {
      expect(caption.words.at(-1)!.word).toBe('<end>');
      expect(caption.words.slice(0, -1).map((w) => w.word).join(' ')).toBe(caption.caption);
      expect(caption.logProb).toBeCloseTo(caption.words.reduce((s, w) => s + w.logProb, 0), 6);
      for (const word of caption.words) {
        expect(word.attention).toHaveLength(16);
        expect(word.attention!.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
        expect(word.uniformity).toBeCloseTo(normalizedEntropy(word.attention!), 10);
      }
    }
    // The chosen caption is the one captioning (and so evaluation) gives the file.
    const [captioned] = await captionFiles(model, [image], explanation.decoding);
    expect(explanation.captions[0]!.caption).toBe(captioned!.caption);
    expect(explanation.diagnosis).not.toBeNull();
    expect(explanation.diagnosis!.meanUniformity).toBeGreaterThan(0);
    model.dispose();
  });

  it('a model without attention says so: no grid, no weights, no diagnosis', async () => {
    const { model, image } = await tinyModel('merge');
    const explanation = await explainWithModel(model, image, { strategy: 'greedy' }, 3);
    expect(explanation.hasAttention).toBe(false);
    expect(explanation.grid).toBeNull();
    expect(explanation.diagnosis).toBeNull();
    expect(explanation.captions).toHaveLength(1);
    expect(explanation.captions[0]!.words.every((w) => w.attention === null && w.uniformity === null)).toBe(true);
    model.dispose();
  });

  it('names the file that cannot be read', async () => {
    const { model } = await tinyModel('attention');
    await expect(explainWithModel(model, '/nonexistent/picture.png', {}, 1)).rejects.toThrow(/picture\.png/);
    model.dispose();
  });
});
