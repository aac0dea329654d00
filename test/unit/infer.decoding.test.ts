import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { END_ID, START_ID } from '../../src/main/lib/data/text/vocabulary';
import { repeatedNgramBans } from '../../src/main/ml/infer/constraints';
import { decode } from '../../src/main/ml/infer/decode';
import { drawFromLogits, maskTopK, maskTopP } from '../../src/main/ml/infer/sampling';
import type { DecodeConstraints, DecodedCaption } from '../../src/main/ml/infer/types';
import type { CaptionDecoder, DecoderFeatures } from '../../src/main/ml/model/decoder';
import { disposeFeatures, tinyDecoder, tinyFeatures, useTestBackend } from '../helpers/captionModel';

const VARIANTS = ['init-inject', 'merge', 'attention'] as const;
const free: DecodeConstraints = { minLength: 0, maxLength: 8, noRepeatNgramSize: 0 };

let features: DecoderFeatures;
beforeAll(async () => {
  await useTestBackend();
  features = tinyFeatures(4, 21);
});
afterAll(() => disposeFeatures(features));

/** Σ log p of tokens + <end> by teacher forcing: what a decoder's reported logProb must equal. */
function teacherForcedLogProb(decoder: CaptionDecoder, image: number, caption: DecodedCaption): number {
  return tf.tidy(() => {
    const one: DecoderFeatures = {
      pooled: features.pooled!.slice([image, 0], [1, -1]),
      grid: features.grid!.slice([image, 0, 0], [1, -1, -1]),
    };
    const inputs = [START_ID, ...caption.tokens];
    const targets = [...caption.tokens, END_ID];
    const mask = targets.map(() => 1);
    const { logits } = decoder.forward(one, tf.tensor2d([inputs], undefined, 'int32'), tf.tensor2d([mask]), { training: false });
    const logProbs = tf.logSoftmax(logits).arraySync() as number[][];
    return targets.reduce((sum, word, t) => sum + logProbs[t]![word]!, 0);
  });
}

function hasRepeatedNgram(tokens: number[], n: number): boolean {
  const seen = new Set<string>();
  for (let i = 0; i + n <= tokens.length; i++) {
    const key = tokens.slice(i, i + n).join(',');
    if (seen.has(key)) return true;
    seen.add(key);
  }
  return false;
}

describe('decoding', () => {
  for (const variant of VARIANTS) {
    for (const cell of ['lstm', 'gru'] as const) {
      it(`${variant}/${cell}: beam search of width 1 is greedy decoding`, () => {
        const decoder = tinyDecoder({ variant, cell, layers: 2 }, 4);
        const constraints = { minLength: 2, maxLength: 7, noRepeatNgramSize: 2 };
        const greedy = decode(decoder, features, { strategy: 'greedy', ...constraints });
        const beam = decode(decoder, features, { strategy: 'beam', beamWidth: 1, lengthPenalty: 1, ...constraints });
        expect(beam.map((c) => c.tokens)).toEqual(greedy.map((c) => c.tokens));
        beam.forEach((c, i) => expect(c.logProb).toBeCloseTo(greedy[i]!.logProb, 4));
        decoder.dispose();
      });
    }
  }

  for (const variant of VARIANTS) {
    it(`${variant}: reported log-probabilities are the model's (greedy, beam 3, sampling)`, () => {
      const decoder = tinyDecoder({ variant, layers: 2 }, 6);
      const results = [
        decode(decoder, features, { strategy: 'greedy', ...free }),
        decode(decoder, features, { strategy: 'beam', beamWidth: 3, lengthPenalty: 0.7, ...free }),
        decode(decoder, features, { strategy: 'sample', temperature: 1.3, topK: 0, topP: 1, seed: 5, ...free }),
      ];
      for (const captions of results) {
        captions.forEach((caption, image) => {
          expect(caption.tokenLogProbs.length).toBe(caption.tokens.length + 1);
          expect(caption.logProb).toBeCloseTo(caption.tokenLogProbs.reduce((a, b) => a + b, 0), 4);
          expect(caption.logProb).toBeCloseTo(teacherForcedLogProb(decoder, image, caption), 3);
          if (variant === 'attention') {
            expect(caption.attention).toHaveLength(caption.tokens.length + 1);
            for (const weights of caption.attention!) expect(weights.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 4);
          } else {
            expect(caption.attention).toBeUndefined();
          }
        });
      }
      decoder.dispose();
    });
  }

  it('beam search scores at least as well as greedy under its own ranking', () => {
    const decoder = tinyDecoder({ variant: 'merge' }, 9);
    const greedy = decode(decoder, features, { strategy: 'greedy', ...free });
    const beam = decode(decoder, features, { strategy: 'beam', beamWidth: 5, lengthPenalty: 0, ...free });
    beam.forEach((caption, i) => expect(caption.logProb).toBeGreaterThanOrEqual(greedy[i]!.logProb - 1e-4));
    decoder.dispose();
  });

  it('respects minimum and maximum length and the no-repeat n-gram size', () => {
    const decoder = tinyDecoder({ variant: 'init-inject' }, 2);
    for (const n of [1, 2, 3]) {
      const constraints = { minLength: 3, maxLength: 6, noRepeatNgramSize: n };
      const all = [
        ...decode(decoder, features, { strategy: 'greedy', ...constraints }),
        ...decode(decoder, features, { strategy: 'beam', beamWidth: 4, lengthPenalty: 1, ...constraints }),
        ...decode(decoder, features, { strategy: 'sample', temperature: 2, topK: 0, topP: 1, seed: n, ...constraints }),
      ];
      for (const caption of all) {
        expect(caption.tokens.length).toBeGreaterThanOrEqual(3);
        expect(caption.tokens.length).toBeLessThanOrEqual(6);
        expect(hasRepeatedNgram(caption.tokens, n)).toBe(false);
        expect(caption.tokens).not.toContain(START_ID);
        expect(caption.tokens).not.toContain(0);
      }
    }
    decoder.dispose();
  });

  it('an untrained model repeats words without the n-gram ban (so the ban is what prevents it)', () => {
    const decoder = tinyDecoder({ variant: 'init-inject' }, 2);
    const captions = decode(decoder, features, { strategy: 'greedy', minLength: 6, maxLength: 6, noRepeatNgramSize: 0 });
    expect(captions.some((c) => hasRepeatedNgram(c.tokens, 1))).toBe(true);
    decoder.dispose();
  });

  it('sampling is reproducible from its seed; top-k 1 is greedy', () => {
    const decoder = tinyDecoder({ variant: 'merge' }, 3);
    const sample = (seed: number, topK = 0) => decode(decoder, features, { strategy: 'sample', temperature: 1, topK, topP: 1, seed, ...free });
    expect(sample(7).map((c) => c.tokens)).toEqual(sample(7).map((c) => c.tokens));
    const many = new Set([1, 2, 3, 4, 5].map((seed) => JSON.stringify(sample(seed).map((c) => c.tokens))));
    expect(many.size).toBeGreaterThan(1);
    const greedy = decode(decoder, features, { strategy: 'greedy', ...free });
    expect(sample(9, 1).map((c) => c.tokens)).toEqual(greedy.map((c) => c.tokens));
    decoder.dispose();
  });

  it('keeps the tensor count flat', () => {
    const decoder = tinyDecoder({ variant: 'attention', layers: 2 }, 3);
    decode(decoder, features, { strategy: 'beam', beamWidth: 3, lengthPenalty: 1, ...free });
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) {
      decode(decoder, features, { strategy: 'greedy', ...free });
      decode(decoder, features, { strategy: 'beam', beamWidth: 3, lengthPenalty: 1, minLength: 1, maxLength: 8, noRepeatNgramSize: 2 });
      decode(decoder, features, { strategy: 'sample', temperature: 0.8, topK: 5, topP: 0.9, seed: i, ...free });
    }
    expect(tf.memory().numTensors).toBe(before);
    decoder.dispose();
  });
});

describe('decoding filters', () => {
  it('repeatedNgramBans names the words that would repeat an n-gram', () => {
    expect(repeatedNgramBans([4, 5, 4], 2).sort()).toEqual([5]);
    expect(repeatedNgramBans([4, 5, 6, 4, 5], 3)).toEqual([6]);
    expect(repeatedNgramBans([4, 5, 6], 3)).toEqual([]);
    expect(repeatedNgramBans([4, 5, 4], 1).sort()).toEqual([4, 5]);
    expect(repeatedNgramBans([4], 0)).toEqual([]);
  });

  it('draws words in proportion to their probability, never a banned one, reproducibly from the seed', () => {
    const probs = [0.5, 0.3, 0.2, 0];
    const rows = 4000;
    const logits = tf.tidy(() => tf.tile(tf.log(tf.tensor2d([probs.map((p) => (p === 0 ? 1e-45 : p))])), [rows, 1])) as tf.Tensor2D;
    const banned = tf.tidy(() => tf.add(logits, tf.tensor1d([0, 0, 0, -1e9]))) as tf.Tensor2D;
    const draws = Array.from(drawFromLogits(banned, 17).dataSync());
    expect(Array.from(drawFromLogits(banned, 17).dataSync())).toEqual(draws);
    expect(Array.from(drawFromLogits(banned, 18).dataSync())).not.toEqual(draws);
    const counts = [0, 1, 2, 3].map((word) => draws.filter((d) => d === word).length / rows);
    expect(counts[3]).toBe(0);
    counts.slice(0, 3).forEach((frequency, word) => expect(Math.abs(frequency - probs[word]!)).toBeLessThan(0.03));
  });

  it('top-k keeps exactly the k largest logits of each row', () => {
    const logits = tf.tensor2d([
      [0.1, 2, -1, 3, 0.5],
      [5, 4, 3, 2, 1],
    ]);
    const kept = (maskTopK(logits, 2).arraySync() as number[][]).map((row) => row.map((v) => v > -1e8));
    expect(kept).toEqual([
      [false, true, false, true, false],
      [true, true, false, false, false],
    ]);
    expect(maskTopK(logits, 0)).toBe(logits);
  });

  it('top-p keeps the smallest most-likely set whose probability reaches p', () => {
    const probs = [
      [0.5, 0.3, 0.15, 0.05],
      [0.05, 0.05, 0.8, 0.1],
    ];
    const logits = tf.log(tf.tensor2d(probs)) as tf.Tensor2D;
    const keptFor = (p: number) => (maskTopP(logits, p).arraySync() as number[][]).map((row) => row.map((v) => v > -1e8));
    expect(keptFor(0.7)).toEqual([
      [true, true, false, false],
      [false, false, true, false],
    ]);
    expect(keptFor(0.85)).toEqual([
      [true, true, true, false],
      [false, false, true, true],
    ]);
    expect(keptFor(0.01)).toEqual([
      [true, false, false, false],
      [false, false, true, false],
    ]);
  });
});
