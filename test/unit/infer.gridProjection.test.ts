/**
 * Attention decoding with the grid projected once per image (grid·W in the
 * state, α·(grid·W) per step) against the context projected per row and step
 * ((g·α·grid)·W): the same step outputs to 1e-5 on the pure-JS backend and on
 * native TensorFlow, for greedy rows and for beams sharing their image's
 * tensors; and the same captions from a trained model.
 */
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/main/ml/backend';
import { decode } from '../../src/main/ml/infer/decode';
import type { DecodeOptions, StepDecoder } from '../../src/main/ml/infer/types';
import type { CaptionDecoder, DecoderFeatures, DecoderState } from '../../src/main/ml/model/decoder';
import { batchOf, disposeBatch, disposeFeatures, SEQUENCES, tinyDecoder, tinyFeatures } from '../helpers/captionModel';

const selected = await initBackend();
const backends = ['cpu', ...(selected.name === 'tensorflow' ? ['tensorflow'] : [])];
if (selected.name !== 'tensorflow') console.warn(`The native backend is not built here (${selected.name} is active): the projection is checked on the pure-JS backend only.`);

let original = '';
beforeAll(() => {
  original = tf.getBackend();
});
afterAll(async () => {
  await tf.setBackend(original);
});

/** Largest |a − b| relative to max(1, |b|). */
function difference(a: tf.Tensor, b: tf.Tensor): number {
  return tf.tidy(() => tf.max(tf.div(tf.abs(tf.sub(a, b)), tf.maximum(1, tf.abs(b)))).dataSync()[0]!);
}

/** The decoder with the grid projection decided one way. */
function deciding(decoder: CaptionDecoder, projectGrid: boolean): StepDecoder<DecoderState> {
  return {
    vocabSize: decoder.vocabSize,
    initialState: (features, plan) => decoder.initialState(features, { beams: plan?.beams ?? 1, steps: plan?.steps ?? 1, projectGrid }),
    step: (tokens, state) => decoder.step(tokens, state),
    stepLogits: (tokens, state) => decoder.stepLogits(tokens, state),
    selectRows: (state, rows, options) => decoder.selectRows(state, rows, options),
    stateTensors: (state) => decoder.stateTensors(state),
  };
}

/** Trains a tiny attention decoder on SEQUENCES until its captions are confident. */
function trainedDecoder(cell: 'lstm' | 'gru', features: DecoderFeatures): CaptionDecoder {
  const decoder = tinyDecoder({ variant: 'attention', cell, layers: 2, dropout: 0 }, 12);
  const batch = batchOf(SEQUENCES, 6);
  const optimizer = tf.train.adam(0.05);
  const variables = decoder.params.entries().map(([, v]) => v);
  for (let step = 0; step < 80; step++) {
    tf.tidy(() => {
      optimizer.minimize(() => decoder.loss(features, batch, { training: false }).crossEntropy, false, variables);
    });
  }
  const loss = tf.tidy(() => decoder.loss(features, batch, { training: false }).crossEntropy.dataSync()[0]!);
  expect(loss).toBeLessThan(0.1); // the model has learned the captions
  optimizer.dispose();
  disposeBatch(batch);
  return decoder;
}

for (const backend of backends) {
  describe(`attention decoding with the projected grid (${backend})`, () => {
    beforeAll(async () => {
      await tf.setBackend(backend);
    });

    for (const cell of ['lstm', 'gru'] as const) {
      for (const beams of [1, 3]) {
        it(`${cell}, ${beams} row(s) per image: logits, attention weights and every layer's state equal the per-step projection`, () => {
          const decoder = tinyDecoder({ variant: 'attention', cell, layers: 2 }, 7);
          const features = tinyFeatures(3, 5);
          const expand = tf.tensor1d([0, 1, 2].flatMap((image) => new Array<number>(beams).fill(image)), 'int32');
          const start = (projectGrid: boolean) => {
            const initial = decoder.initialState(features, { beams, steps: 5, projectGrid });
            const state = decoder.selectRows(initial, expand, { imageRowsUnchanged: true });
            return state;
          };
          let projected = start(true);
          let perStep = start(false);
          expect(projected.gridOut?.shape).toEqual([3, 4, (cell === 'lstm' ? 4 : 3) * 5 + 5]);
          expect(projected.grid).toBeUndefined();
          expect(perStep.gridOut).toBeUndefined();
          const rng = [4, 9, 12, 5, 7, 11];
          for (let t = 0; t < 4; t++) {
            const tokens = tf.tensor1d(Array.from({ length: 3 * beams }, (_, row) => rng[(row + t) % rng.length]!), 'int32');
            const a = decoder.stepLogits(tokens, projected);
            const b = decoder.stepLogits(tokens, perStep);
            expect(difference(a.logits, b.logits)).toBeLessThan(1e-5);
            expect(difference(a.attention!, b.attention!)).toBeLessThan(1e-5);
            a.state.layers.forEach((layer, i) => {
              expect(difference(layer.h, b.state.layers[i]!.h)).toBeLessThan(1e-5);
              if (layer.c) expect(difference(layer.c, b.state.layers[i]!.c!)).toBeLessThan(1e-5);
            });
            // The states moved on (a step that changed nothing would pass trivially).
            expect(difference(a.state.layers[1]!.h, projected.layers[1]!.h)).toBeGreaterThan(1e-3);
            projected = a.state;
            perStep = b.state;
          }
          disposeFeatures(features);
          decoder.dispose();
        });
      }

      it(`${cell}: a trained model gives the same captions both ways (greedy, beam 3) with log-probabilities to 1e-4`, () => {
        const features = tinyFeatures(3, 5);
        const decoder = trainedDecoder(cell, features);
        const constraints = { minLength: 0, maxLength: 8, noRepeatNgramSize: 0 };
        for (const options of [
          { strategy: 'greedy', ...constraints },
          { strategy: 'beam', beamWidth: 3, lengthPenalty: 1, ...constraints },
        ] as DecodeOptions[]) {
          const projected = decode(deciding(decoder, true), features, options);
          const perStep = decode(deciding(decoder, false), features, options);
          expect(projected.map((c) => c.tokens)).toEqual(SEQUENCES.map((sequence) => sequence.slice(1, -1)));
          expect(projected.map((c) => c.tokens)).toEqual(perStep.map((c) => c.tokens));
          projected.forEach((caption, i) => {
            expect(Math.abs(caption.logProb - perStep[i]!.logProb)).toBeLessThan(1e-4);
            caption.attention!.forEach((weights, t) => weights.forEach((w, l) => expect(Math.abs(w - perStep[i]!.attention![t]![l]!)).toBeLessThan(1e-5)));
          });
        }
        disposeFeatures(features);
        decoder.dispose();
      });
    }

    it('the decoder projects the grid by itself where the saving over the plan exceeds 1.5 × the projection, and never without a plan', () => {
      // L = 4 regions, C = 7 channels, n = 4·5 + 5 = 25 projected columns: each row and step saves
      // L·C + C·n − L·n = 103 multiply-adds, the projection costs L·C·n = 700, so beams × steps must exceed 1,050 / 103 = 10.2.
      const decoder = tinyDecoder({ variant: 'attention' }, 2);
      const features = tinyFeatures(2, 5);
      expect(features.grid!.shape).toEqual([2, 4, 7]);
      const holds = (plan: { beams: number; steps: number } | undefined, grid = features.grid!) => {
        const state = decoder.initialState({ grid }, plan);
        const projected = state.gridOut !== undefined;
        tf.dispose(decoder.stateTensors(state));
        return projected;
      };
      expect(holds(undefined)).toBe(false);
      expect(holds({ beams: 1, steps: 10 })).toBe(false);
      expect(holds({ beams: 1, steps: 11 })).toBe(true);
      expect(holds({ beams: 3, steps: 3 })).toBe(false);
      expect(holds({ beams: 3, steps: 4 })).toBe(true);
      // With the word glimpse: n = 30 and two attentions, L·2C + C·n − L·n = 146 saved, 840 cost: more than 8.6.
      const glimpsing = tinyDecoder({ variant: 'attention', wordGlimpse: true }, 2);
      const glimpseHolds = (plan: { beams: number; steps: number }) => {
        const state = glimpsing.initialState(features, plan);
        const projected = state.gridOut !== undefined;
        tf.dispose(glimpsing.stateTensors(state));
        return projected;
      };
      expect(glimpseHolds({ beams: 1, steps: 8 })).toBe(false);
      expect(glimpseHolds({ beams: 1, steps: 9 })).toBe(true);
      // A grid with more regions than channels saves nothing by projecting: L·C + C·n − L·n < 0 for L = 64.
      const wide = tf.randomNormal([2, 64, 7], 0, 1, 'float32', 3) as tf.Tensor3D;
      expect(holds({ beams: 10, steps: 100 }, wide)).toBe(false);
      wide.dispose();
      disposeFeatures(features);
      decoder.dispose();
      glimpsing.dispose();
    });
  });
}
