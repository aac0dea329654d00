/**
 * Beam search steps only the rows that can still matter (one row per image at
 * the first step, no rows for images that are done). These tests hold it to
 * the plain batched beam search it replaced (every image's `width` rows to
 * the end), kept in test/helpers/referenceBeamSearch.ts: captions,
 * log-probabilities, scores and attention weights equal to the bit wherever
 * rows are independent of their batch, on whichever backend runs the tests
 * (`npm run test:backends` runs them on pure JS and wasm too). The caption
 * decoder on native TensorFlow, whose rows already depend on their batch in
 * the last bits, drops rows freely: the same captions, numbers within float
 * rounding. Whether a tiny row keeps its bits in a smaller batch is the
 * backend's and the CPU's (native TensorFlow's matrix kernels block rows one
 * way on one CPU and another way on the next), so it is measured here
 * (`rowsKeepTheirBits`) rather than assumed: where it does not hold, the
 * compacting paths are held to the same captions with numbers within float
 * rounding instead.
 */
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { beamSearch } from '../../src/main/ml/infer/beam';
import { decode } from '../../src/main/ml/infer/decode';
import { blockSizeFor, columnsOf, rowTopK } from '../../src/main/ml/infer/rowTopK';
import type { BeamOptions, DecodedCaption, StepDecoder } from '../../src/main/ml/infer/types';
import type { CaptionDecoder, DecoderFeatures, DecoderState } from '../../src/main/ml/model/decoder';
import { disposeFeatures, tinyDecoder, tinyFeatures, useTestBackend } from '../helpers/captionModel';
import { referenceBeamSearch } from '../helpers/referenceBeamSearch';

// 32 images × any width fill whole packets of rows, so rows are rearranged; 6 × 3 do not (the plain layout is kept).
const IMAGES = 32;
let features: DecoderFeatures;
let few: DecoderFeatures;
/** Whether this backend gives every row of a matrix product the same bits in a batch of any size up to 32 as in the whole batch (measured in beforeAll). */
let rowsKeepTheirBits = true;
beforeAll(async () => {
  await useTestBackend();
  features = tinyFeatures(IMAGES, 31);
  few = tinyFeatures(6, 32);
  rowsKeepTheirBits = matrixRowsKeepTheirBits();
});

/** Products at the tiny decoder's sizes, each row of a batch of 1 to 31 compared with the same row of a batch of 32. */
function matrixRowsKeepTheirBits(): boolean {
  return tf.tidy(() => {
    for (const [inner, outer] of [[8, 16], [16, 64], [24, 40], [40, 96]] as const) {
      const a = tf.randomUniform([IMAGES * 4, inner], -1, 1, 'float32', inner);
      const b = tf.randomUniform([inner, outer], -1, 1, 'float32', outer);
      const whole = tf.matMul(a, b).dataSync();
      for (let rows = 1; rows < IMAGES * 4; rows++) {
        const part = tf.matMul(tf.slice(a, [0, 0], [rows, -1]), b).dataSync();
        for (let i = 0; i < part.length; i++) if (!Object.is(part[i], whole[i])) return false;
      }
    }
    return true;
  });
}
afterAll(() => {
  disposeFeatures(features);
  disposeFeatures(few);
});

/** The decoder as it is, recording the rows of every step. */
function plainRecording(decoder: CaptionDecoder): { model: StepDecoder<DecoderState>; rows: number[] } {
  const recorded = recording(decoder);
  return { model: { ...recorded.model, rowIndependentSteps: decoder.rowIndependentSteps, batchDependentSteps: decoder.batchDependentSteps }, rows: recorded.rows };
}

/**
 * The decoder, recording the rows of every step. Its rows count as
 * independent of the batch (which the decoder itself claims only off native
 * TensorFlow), so that the rearranging paths run on every backend; their
 * results must equal the reference's to the bit where `rowsKeepTheirBits`,
 * within float rounding elsewhere. For attention the grid projection can
 * be decided one way.
 */
function recording(decoder: CaptionDecoder, projectGrid?: boolean): { model: StepDecoder<DecoderState>; rows: number[] } {
  const rows: number[] = [];
  const model: StepDecoder<DecoderState> = {
    vocabSize: decoder.vocabSize,
    rowIndependentSteps: true,
    initialState: (f, plan) =>
      decoder.initialState(f, projectGrid === undefined ? plan : { beams: plan?.beams ?? 1, steps: plan?.steps ?? 1, projectGrid }),
    step: (tokens, state) => {
      rows.push(tokens.shape[0]);
      return decoder.step(tokens, state);
    },
    stepLogits: (tokens, state) => {
      rows.push(tokens.shape[0]);
      return decoder.stepLogits(tokens, state);
    },
    selectRows: (state, selected, options) => decoder.selectRows(state, selected, options),
    stateTensors: (state) => decoder.stateTensors(state),
  };
  return { model, rows };
}

/** The same captions as `reference`; the same numbers to the bit, or (`exact` false) to a relative 1e-5. */
function expectSameCaptions(actual: DecodedCaption[], reference: DecodedCaption[], exact: boolean, what: string): void {
  if (exact) {
    expect(actual, what).toEqual(reference);
    return;
  }
  expect(actual.map((caption) => caption.tokens), what).toEqual(reference.map((caption) => caption.tokens));
  const numbers = (captions: DecodedCaption[]) => captions.flatMap((c) => [c.logProb, c.score, ...c.tokenLogProbs, ...(c.attention ?? []).flat()]);
  const expected = numbers(reference);
  const got = numbers(actual);
  expect(got.length, what).toBe(expected.length);
  const worst = Math.max(0, ...got.map((value, i) => Math.abs(value - expected[i]!) / Math.max(1, Math.abs(expected[i]!))));
  expect(worst, what).toBeLessThan(1e-5);
}

/** Whether the caption decoder's own layout gives the reference's numbers to the bit (rows independent of their batch). */
const exactOwnLayout = (decoder: CaptionDecoder) => decoder.rowIndependentSteps;

const beam = (beamWidth: number, lengthPenalty: number, constraints: Partial<BeamOptions> = {}): BeamOptions => ({
  strategy: 'beam',
  beamWidth,
  lengthPenalty,
  minLength: 0,
  maxLength: 9,
  noRepeatNgramSize: 0,
  ...constraints,
});

const SETTINGS: Array<{ name: string; options: BeamOptions }> = [
  { name: 'width 1', options: beam(1, 1) },
  { name: 'width 2, raw Σ log p', options: beam(2, 0) },
  { name: 'width 3, length penalty 0.7', options: beam(3, 0.7) },
  { name: 'width 5, length penalty 1', options: beam(5, 1) },
  { name: 'width 4, length penalty 2, min length 3, no repeated bigram', options: beam(4, 2, { minLength: 3, noRepeatNgramSize: 2 }) },
  { name: 'width 3, no repeated word, max length 4', options: beam(3, 1, { noRepeatNgramSize: 1, maxLength: 4 }) },
  { name: 'width 6, negative length penalty', options: beam(6, -0.5, { maxLength: 12 }) },
];

describe('beam search stepping only the rows that matter', () => {
  for (const variant of ['init-inject', 'merge', 'attention'] as const) {
    for (const cell of ['lstm', 'gru'] as const) {
      it(`${variant}/${cell}: the same captions, log-probabilities, scores and attention as the plain beam search`, () => {
        const decoder = tinyDecoder({ variant, cell, layers: 2 }, 17);
        const { model } = recording(decoder);
        for (const { name, options } of SETTINGS) {
          for (const batch of [features, few]) {
            const reference = referenceBeamSearch(decoder, batch, options);
            expectSameCaptions(beamSearch(decoder, batch, options), reference, exactOwnLayout(decoder), `${name}, ${batch.pooled!.shape[0]} images, the decoder's own layout`);
            const compacted = beamSearch(model, batch, options);
            expectSameCaptions(compacted, reference, rowsKeepTheirBits, `${name}, ${batch.pooled!.shape[0]} images`);
          }
        }
        decoder.dispose();
      });
    }
  }

  for (const projectGrid of [true, false]) {
    it(`attention with the grid projected ${projectGrid ? 'once per image' : 'per step'}: the same results as the plain beam search`, () => {
      const decoder = tinyDecoder({ variant: 'attention', layers: 1 }, 23);
      const { model } = recording(decoder, projectGrid);
      for (const { name, options } of SETTINGS) {
        expectSameCaptions(beamSearch(model, features, options), referenceBeamSearch(model, features, options), rowsKeepTheirBits, name);
      }
      decoder.dispose();
    });
  }

  it('steps one row per image first, then width rows per image that is not done, fewer as images finish', () => {
    const decoder = tinyDecoder({ variant: 'merge' }, 1);
    const width = 4;
    const options = beam(width, 1, { maxLength: 12 });
    // With this model some images end at once and others run to the limit.
    const compacted = recording(decoder);
    const plain = recording(decoder);
    const captions = beamSearch(compacted.model, features, options);
    expectSameCaptions(captions, referenceBeamSearch(plain.model, features, options), rowsKeepTheirBits, 'merge, width 4');
    // The reference steps every image's rows until the last image is done.
    expect(plain.rows.every((rows) => rows === IMAGES * width)).toBe(true);
    expect(compacted.rows[0]).toBe(IMAGES);
    for (const rows of compacted.rows.slice(1)) {
      expect(rows % 16).toBe(0);
      expect(rows).toBeLessThanOrEqual(IMAGES * width);
    }
    // Images finish at different steps here (the captions differ in length), so rows fall step by step and end early.
    expect(new Set(captions.map((c) => c.tokens.length)).size).toBeGreaterThan(1);
    expect(compacted.rows.some((rows) => rows > 0 && rows < IMAGES * width)).toBe(true);
    for (let i = 2; i < compacted.rows.length; i++) expect(compacted.rows[i]).toBeLessThanOrEqual(compacted.rows[i - 1]!);
    expect(compacted.rows.reduce((a, b) => a + b, 0)).toBeLessThan(plain.rows.reduce((a, b) => a + b, 0));
    decoder.dispose();
  });

  it('keeps the plain layout where images × width is not a whole number of packets of rows', () => {
    const decoder = tinyDecoder({ variant: 'merge' }, 17);
    const options = beam(3, 1);
    const compacted = recording(decoder);
    const plain = recording(decoder);
    expect(beamSearch(compacted.model, few, options)).toEqual(referenceBeamSearch(plain.model, few, options));
    expect(compacted.rows.every((rows) => rows === 18)).toBe(true);
    decoder.dispose();
  });

  it('the caption decoder drops rows in whole packets where its rows are independent of the batch, freely on native TensorFlow (where they are not)', () => {
    for (const variant of ['merge', 'attention'] as const) {
      const decoder = tinyDecoder({ variant }, 1);
      const width = 4;
      const options = beam(width, 1, { maxLength: 12 });
      for (const batch of [features, few]) {
        const images = batch.pooled!.shape[0];
        const { model, rows } = plainRecording(decoder);
        const captions = beamSearch(model, batch, options);
        expectSameCaptions(captions, referenceBeamSearch(decoder, batch, options), exactOwnLayout(decoder), `${variant}, ${images} images`);
        const native = tf.getBackend() === 'tensorflow';
        expect(decoder.rowIndependentSteps).toBe(!native);
        // Off native TensorFlow the decoder's claim and the measurement agree: rows keep their bits, so the comparisons above are to the bit.
        if (!native) expect(rowsKeepTheirBits).toBe(true);
        expect(decoder.batchDependentSteps).toBe(native);
        if (native) {
          // One row per image first, then `width` rows for every image not done, and no padding.
          expect(rows[0]).toBe(images);
          for (const stepped of rows.slice(1)) expect(stepped % width).toBe(0);
          expect(rows.slice(1).some((stepped) => stepped < images * width)).toBe(true);
          if (images === IMAGES) expect(rows.some((stepped) => stepped % 16 !== 0)).toBe(true);
        } else {
          // Off native, 6 × 4 rows are not whole packets: the plain layout stays.
          expect(rows[0]).toBe(images === IMAGES ? IMAGES : images * width);
          for (const stepped of rows) expect(stepped % 16 === 0 || stepped === images * width).toBe(true);
        }
      }
      decoder.dispose();
    }
  });

  it('drops the rows of finished images without padding where a model allows any batch (batchDependentSteps)', () => {
    const decoder = tinyDecoder({ variant: 'merge' }, 1);
    const width = 4;
    const options = beam(width, 1, { maxLength: 12 });
    for (const batch of [features, few]) {
      const images = batch.pooled!.shape[0];
      const free = recording(decoder);
      const model = { ...free.model, rowIndependentSteps: false, batchDependentSteps: true };
      const plain = recording(decoder);
      const captions = beamSearch(model, batch, options);
      // To the bit where this backend's rows keep their bits in any batch; within float rounding where they do not.
      expectSameCaptions(captions, referenceBeamSearch(plain.model, batch, options), rowsKeepTheirBits, `${images} images`);
      expect(free.rows[0]).toBe(images);
      // After the first step: exactly `width` rows per image not yet done, falling as images finish.
      for (const stepped of free.rows.slice(1)) expect(stepped % width).toBe(0);
      for (let i = 2; i < free.rows.length; i++) expect(free.rows[i]).toBeLessThanOrEqual(free.rows[i - 1]!);
      expect(free.rows.slice(1).some((stepped) => stepped < images * width)).toBe(true);
      // Not padded to 16-row packets.
      if (images === IMAGES) expect(free.rows.some((stepped) => stepped % 16 !== 0)).toBe(true);
    }
    decoder.dispose();
  });

  it('stops an image whose live beams cannot beat its best finished caption, with the same result', () => {
    // Raw Σ log p (length penalty 0): a finished caption beats every live beam that already scores below it.
    const decoder = tinyDecoder({ variant: 'init-inject' }, 5);
    const options = beam(8, 0, { maxLength: 14 });
    const compacted = recording(decoder);
    const plain = recording(decoder);
    expectSameCaptions(beamSearch(compacted.model, features, options), referenceBeamSearch(plain.model, features, options), rowsKeepTheirBits, 'init-inject, width 8');
    expect(compacted.rows.length).toBeLessThanOrEqual(plain.rows.length);
    expect(compacted.rows.reduce((a, b) => a + b, 0)).toBeLessThan(plain.rows.reduce((a, b) => a + b, 0));
    decoder.dispose();
  });

  it('returns nothing for no images, as the plain beam search does', () => {
    const decoder = tinyDecoder({ variant: 'merge' }, 1);
    const none = tinyFeatures(0, 1);
    const before = tf.memory().numTensors;
    expect(beamSearch(recording(decoder).model, none, beam(3, 1))).toEqual(referenceBeamSearch(decoder, none, beam(3, 1)));
    expect(beamSearch(decoder, none, beam(3, 1))).toEqual([]);
    expect(tf.memory().numTensors).toBe(before);
    disposeFeatures(none);
    decoder.dispose();
  });

  it('keeps the tensor count flat, whether images finish early or run to the length limit', () => {
    for (const variant of ['merge', 'attention'] as const) {
      const decoder = tinyDecoder({ variant, layers: 2 }, 3);
      const { model } = recording(decoder);
      beamSearch(decoder, features, beam(3, 1));
      const before = tf.memory().numTensors;
      for (const options of [beam(3, 1), beam(5, 0.5, { minLength: 2, maxLength: 3 }), beam(2, 0, { maxLength: 30 }), beam(1, 1)]) {
        for (const [layout, stepper] of [['own', decoder], ['rearranged', model]] as const) {
          for (const batch of [features, few]) beamSearch(stepper, batch, options);
          expect(tf.memory().numTensors, `${variant}, width ${options.beamWidth}, ${layout} layout`).toBe(before);
        }
      }
      decoder.dispose();
    }
  });
});

describe('greedy decoding dropping finished captions', () => {
  // Merge with seed 8: most captions end within a few words, so rows are dropped.
  for (const [variant, seed] of [['init-inject', 1], ['merge', 8], ['attention', 1]] as const) {
    it(`${variant}: the same captions, log-probabilities and attention as with every row kept; fewer rows as captions end`, () => {
      const decoder = tinyDecoder({ variant, layers: 2 }, seed);
      for (const constraints of [
        { minLength: 0, maxLength: 9, noRepeatNgramSize: 0 },
        { minLength: 2, maxLength: 6, noRepeatNgramSize: 2 },
      ]) {
        const dropping = recording(decoder);
        const keeping = recording(decoder);
        const all = { ...keeping.model, rowIndependentSteps: false };
        const captions = decode(dropping.model, features, { strategy: 'greedy', ...constraints });
        expect(captions).toEqual(decode(all, features, { strategy: 'greedy', ...constraints }));
        expect(keeping.rows.every((rows) => rows === IMAGES)).toBe(true);
        for (const rows of dropping.rows) expect(rows % 16).toBe(0);
        for (let i = 1; i < dropping.rows.length; i++) expect(dropping.rows[i]).toBeLessThanOrEqual(dropping.rows[i - 1]!);
        if (variant === 'merge') expect(dropping.rows.reduce((a, b) => a + b, 0)).toBeLessThan(keeping.rows.reduce((a, b) => a + b, 0));
        // Sampling keeps every row (its draws depend on the batch's shape).
        const sampling = recording(decoder);
        decode(sampling.model, features, { strategy: 'sample', temperature: 1, topK: 0, topP: 1, seed: 3, ...constraints });
        expect(sampling.rows.every((rows) => rows === IMAGES)).toBe(true);
      }
      decoder.dispose();
    });
  }

  it('keeps the tensor count flat; the caption decoder keeps every row on native TensorFlow (beam search drops them there, greedy does not)', () => {
    const decoder = tinyDecoder({ variant: 'merge', layers: 2 }, 8);
    const { model } = recording(decoder);
    const own = plainRecording(decoder);
    const constraints = { minLength: 1, maxLength: 12, noRepeatNgramSize: 0 };
    decode(model, features, { strategy: 'greedy', ...constraints });
    const before = tf.memory().numTensors;
    for (const batch of [features, few]) {
      decode(model, batch, { strategy: 'greedy', ...constraints });
      own.rows.length = 0;
      decode(own.model, batch, { strategy: 'greedy', ...constraints });
      if (tf.getBackend() === 'tensorflow') expect(own.rows.every((rows) => rows === batch.pooled!.shape[0])).toBe(true);
    }
    expect(tf.memory().numTensors).toBe(before);
    decoder.dispose();
  });
});

describe('rowTopK', () => {
  /** tf.topk and tf.max over whole rows, against rowTopK's blocks. */
  function check(x: tf.Tensor2D, k: number): void {
    const expected = tf.topk(x, k, true);
    const expectedMax = tf.max(x, 1, true);
    const top = rowTopK(x, k);
    const columns = columnsOf(top.positions.dataSync(), top.blocks ? top.blocks.dataSync() : null, k, top.blockSize);
    expect(Array.from(columns)).toEqual(Array.from(expected.indices.dataSync()));
    expect(Array.from(top.values.dataSync())).toEqual(Array.from(expected.values.dataSync()));
    expect(Array.from(top.max.dataSync())).toEqual(Array.from(expectedMax.dataSync()));
    tf.dispose([expected.values, expected.indices, expectedMax, top.max, top.values, top.positions, ...(top.blocks ? [top.blocks] : [])]);
  }

  it('picks what a top-k over the whole row picks, ties (lower index first) and padding included', () => {
    const before = tf.memory().numTensors;
    for (const [rows, width] of [
      [7, 5000], // blocks of 25
      [5, 4999], // no divisor near 32: padded with -Infinity
      [3, 2048],
      [4, 300], // narrow: searched whole
    ] as const) {
      for (const k of [1, 6, 12]) {
        // Few distinct values: many ties within and across blocks.
        for (const distinct of [3, 40, 100000]) {
          const values = Float32Array.from({ length: rows * width }, (_, i) => ((i * 2654435761 + k * 7 + distinct) >>> 0) % distinct);
          const x = tf.tensor2d(values, [rows, width]);
          check(x, k);
          x.dispose();
        }
      }
      // -Infinity in the row (as banned words could be): still ahead of the padding, behind every finite value.
      const withInfinity = tf.tidy(() => tf.where(tf.less(tf.randomUniform([rows, width], 0, 1, 'float32', 3), 0.99), tf.fill([rows, width], -Infinity), tf.randomNormal([rows, width], 0, 1, 'float32', 4))) as tf.Tensor2D;
      check(withInfinity, 12);
      withInfinity.dispose();
    }
    // Equal values in blocks whose maxima differ: the lower index wins, even where its block ranks lower.
    const crafted = new Float32Array(2 * 2048);
    crafted[10 * 32 + 4] = 9; // block 10: 9 and a 1
    crafted[10 * 32 + 7] = 1;
    crafted[3 * 32] = 5; // block 3: 5
    crafted[1 * 32 + 30] = 1; // block 1: a 1, before block 10's
    crafted.copyWithin(2048, 0, 2048);
    crafted[2048 + 40 * 32] = 3; // second row: block 40 highest, its 1s behind block 1's
    crafted[2048 + 40 * 32 + 1] = 1;
    const tied = tf.tensor2d(crafted, [2, 2048]);
    for (const k of [3, 4]) check(tied, k);
    tied.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('cuts rows into blocks that divide the width where one is near 32', () => {
    expect(blockSizeFor(5000)).toBe(25);
    expect(blockSizeFor(4096)).toBe(32);
    expect(blockSizeFor(3000)).toBe(30);
    expect(blockSizeFor(4999)).toBe(32);
  });
});
