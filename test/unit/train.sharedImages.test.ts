/**
 * Batches whose rows share images (`training.captionsPerImage`): the epoch
 * order still visits every caption once, an image's rows share one encoder
 * pass and one flip, the gathered features and their gradients are those of
 * one pass per row, and a run trained this way resumes exactly (with the
 * merge decoder: a step of the attention decoder replayed as a TensorFlow
 * graph can differ from the same step run eagerly in the last bits, with
 * shared images or without).
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { Vocabulary } from '../../src/main/lib/data/text/vocabulary';
import type { DecoderFeatures } from '../../src/main/ml/model/decoder';
import { Flip } from '../../src/main/ml/train/augmentation';
import { distinctImages, epochBatches, epochOrder, hostBatch } from '../../src/main/ml/train/batches';
import { rowFeatures, type FeatureSource } from '../../src/main/ml/train/featureSource';
import { readCheckpoint } from '../../src/main/ml/train/checkpoint';
import { runConfigSchema } from '../../src/shared/runConfig';
import { useTestBackend } from '../helpers/captionModel';
import { stepLosses, tinyConfig, tinyWorkspace, trainTiny, type TinyWorkspace } from '../helpers/trainingRun';

/** Five captions for each of 12 images, listed image by image as a split's captions are. */
const imageOfCaption = Array.from({ length: 60 }, (_, caption) => Math.floor(caption / 5));

describe('the batches of an epoch with shared images', () => {
  it('visit every caption once; full batches hold floor(B / k) images with k captions each, the rest batches of their own', () => {
    for (const k of [2, 3, 5]) {
      const batches = epochBatches(9, 0, imageOfCaption, 8, k);
      expect(batches.flat().sort((a, b) => a - b)).toEqual(imageOfCaption.map((_, caption) => caption));
      const runs = Math.floor(8 / k);
      const fullRuns = 12 * Math.floor(5 / k);
      const rest = 5 % k;
      // A batch is cut into runs of consecutive captions of one image: full batches into `runs` runs of k, the others into runs of 5 mod k.
      const cut = batches.map((batch) => {
        const sizes: number[] = [];
        batch.forEach((caption, row) => {
          if (row > 0 && imageOfCaption[batch[row - 1]!] === imageOfCaption[caption] && sizes[sizes.length - 1]! < k) sizes[sizes.length - 1]! += 1;
          else sizes.push(1);
        });
        return sizes;
      });
      const full = cut.filter((sizes) => sizes.every((size) => size === k));
      expect(full).toHaveLength(Math.ceil(fullRuns / runs));
      expect(full.filter((sizes) => sizes.length === runs)).toHaveLength(Math.floor(fullRuns / runs));
      const others = cut.filter((sizes) => !sizes.every((size) => size === k));
      expect(others.every((sizes) => sizes.every((size) => size === rest))).toBe(true);
      expect(others).toHaveLength(rest === 0 ? 0 : Math.ceil((12 * rest) / (Math.floor(8 / rest) * rest)));
      // The same number of batches for any draw.
      expect(epochBatches(1, 3, imageOfCaption, 8, k)).toHaveLength(batches.length);
    }
  });

  it('are fixed by (seed, epoch), differ between epochs, and are slices of the plain order for k = 1', () => {
    expect(epochBatches(9, 1, imageOfCaption, 8, 2)).toEqual(epochBatches(9, 1, imageOfCaption, 8, 2));
    expect(epochBatches(9, 1, imageOfCaption, 8, 2)).not.toEqual(epochBatches(9, 2, imageOfCaption, 8, 2));
    const plain = epochOrder(9, 1, 60);
    expect(epochBatches(9, 1, imageOfCaption, 8, 1)).toEqual(Array.from({ length: 8 }, (_, step) => plain.slice(step * 8, step * 8 + 8)));
  });

  it('map each row to its image among the distinct images, in order of first use', () => {
    expect(distinctImages([7, 3, 7, 9, 3])).toEqual({ images: [7, 3, 9], rowOf: [0, 1, 0, 2, 1] });
  });
});

describe('the horizontal flip with shared images', () => {
  const vocabulary = Vocabulary.build([['a', 'circle', 'left', 'of', 'a', 'star']]);
  const tokens = Int32Array.from([1, ...['a', 'circle', 'left', 'of', 'a', 'star'].map((word) => vocabulary.id(word)), 2]);
  const items = Array.from({ length: 40 }, (_, row) => ({ image: row % 10, tokens }));

  it("draws one flip per image, which all of the image's rows follow", () => {
    const batch = hostBatch(items, { shareImages: true });
    expect(batch.distinct!.images).toHaveLength(10);
    const flipped = new Flip(vocabulary, 3, 'horizontal').apply(batch, 11);
    const perImage = flipped.distinct!.flips!;
    expect(perImage).toHaveLength(10);
    expect(perImage.some(Boolean) && !perImage.every(Boolean)).toBe(true);
    flipped.flips!.forEach((flip, row) => expect(flip).toBe(perImage[row % 10]));
    const left = vocabulary.id('left');
    const right = vocabulary.id('right');
    flipped.flips!.forEach((flip, row) => expect(flipped.inputs[row * batch.steps + 3]).toBe(flip ? right : left));
  });
});

describe('features of rows that share images', () => {
  beforeAll(useTestBackend);

  /** A source whose features of image i are a trainable weight times i (mirrored images negated, flipped ones tenfold), counting the images it encodes. */
  function fakeSource(weight: tf.Variable, encoded: number[][]): FeatureSource {
    return {
      featureDim: 3,
      gridRegions: 2,
      trainable: () => [['encoder/w', weight]],
      features(_split, images, _training, flips): DecoderFeatures {
        encoded.push([...images]);
        const signs = tf.tensor2d(images.map((image, i) => [(flips?.horizontal?.[i] ? -image : image) * (flips?.vertical?.[i] ? 10 : 1)]), [images.length, 1]);
        const pooled = tf.mul(signs, weight) as tf.Tensor2D;
        return { pooled, grid: tf.stack([pooled, tf.mul(pooled, 2)], 1) as tf.Tensor3D };
      },
      dispose: () => undefined,
    };
  }

  it('encodes each distinct image once and gives every row the features and gradient of its own pass', () => {
    const weight = tf.variable(tf.tensor2d([[0.5, -1, 2]]));
    const encoded: number[][] = [];
    const source = fakeSource(weight, encoded);
    const rows = [4, 1, 4, 6, 1, 4];
    const flips = [true, false, true, false, false, true];
    const verticalFlips = [false, true, false, true, true, false];
    const shared = { ...hostBatch(rows.map((image) => ({ image, tokens: Int32Array.from([1, 2]) })), { shareImages: true }) };
    shared.distinct = { ...shared.distinct!, flips: [true, false, false], verticalFlips: [false, true, true] };
    const perRow = { ...hostBatch(rows.map((image) => ({ image, tokens: Int32Array.from([1, 2]) }))), flips, verticalFlips };
    const rowWeights = tf.tensor2d(rows.map((_, row) => [row + 1]), [rows.length, 1]);
    const lossOf = (batch: typeof shared) => () => {
      const features = rowFeatures(source, batch);
      return tf.add(tf.sum(tf.mul(features.pooled!, rowWeights)), tf.sum(tf.square(features.grid!))) as tf.Scalar;
    };
    const a = tf.variableGrads(lossOf(shared), [weight]);
    expect(encoded.pop()).toEqual([4, 1, 6]);
    const b = tf.variableGrads(lossOf(perRow), [weight]);
    expect(encoded.pop()).toEqual(rows);
    expect(a.value.dataSync()[0]).toBeCloseTo(b.value.dataSync()[0]!, 4);
    const [gradA, gradB] = [a.grads[weight.name]!.dataSync(), b.grads[weight.name]!.dataSync()];
    gradB.forEach((value, i) => expect(gradA[i]).toBeCloseTo(value, 3));
    tf.tidy(() => {
      const features = rowFeatures(source, shared);
      const expected = rows.map((image, row) => [0.5, -1, 2].map((w) => (flips[row] ? -image : image) * (verticalFlips[row] ? 10 : 1) * w));
      expect(features.pooled!.arraySync()).toEqual(expected);
    });
    tf.dispose([a.value, b.value, ...Object.values(a.grads), ...Object.values(b.grads), rowWeights, weight]);
  });
});

describe('training with shared images', () => {
  let workspace: TinyWorkspace;
  beforeAll(async () => {
    await useTestBackend();
    workspace = await tinyWorkspace();
  });

  const shared = (k: number) =>
    tinyConfig(workspace.dataset, (c) => {
      c.training.captionsPerImage = k;
      c.training.horizontalFlip = true;
      c.training.verticalFlip = true;
    });

  it('trains another curve than one image per row, keeps the tensor count flat, and resumes exactly', async () => {
    const counts: number[] = [];
    const straight = await trainTiny(workspace, shared(2), {
      maxSteps: 6,
      onEvent: (event) => {
        if (event.kind === 'step') counts.push(tf.memory().numTensors);
      },
    });
    expect(stepLosses(straight.events)).toHaveLength(6);
    expect(new Set(counts).size).toBe(1);
    expect(stepLosses(straight.events)).not.toEqual(stepLosses((await trainTiny(workspace, shared(1), { maxSteps: 6 })).events));
    const first = await trainTiny(workspace, shared(2), { maxSteps: 3 });
    const resumed = await trainTiny(workspace, shared(2), { maxSteps: 3, resumeFrom: first.result.lastCheckpoint!, runDir: first.runDir });
    expect(stepLosses([...first.events, ...resumed.events])).toEqual(stepLosses(straight.events));
    const [a, b] = await Promise.all([readCheckpoint(straight.result.lastCheckpoint!), readCheckpoint(resumed.result.lastCheckpoint!)]);
    expect(b.weights.map((w) => w.name)).toEqual(a.weights.map((w) => w.name));
    a.weights.forEach((weight, i) => expect(Array.from(b.weights[i]!.data), weight.name).toEqual(Array.from(weight.data)));
  });

  it('flips top to bottom only when asked: another curve than the left-right flip alone', async () => {
    const leftRightOnly = shared(2);
    leftRightOnly.training.verticalFlip = false;
    const [both, horizontal] = [await trainTiny(workspace, shared(2), { maxSteps: 4 }), await trainTiny(workspace, leftRightOnly, { maxSteps: 4 })];
    expect(stepLosses(both.events)).not.toEqual(stepLosses(horizontal.events));
  });

  it('feeds the attention decoder a grid per row, with the tensor count flat', async () => {
    const counts: number[] = [];
    const config = shared(3);
    config.decoder.variant = 'attention';
    const run = await trainTiny(workspace, config, {
      maxSteps: 5,
      onEvent: (event) => {
        if (event.kind === 'step') counts.push(tf.memory().numTensors);
      },
    });
    expect(stepLosses(run.events).every(Number.isFinite)).toBe(true);
    expect(counts).toHaveLength(5);
    expect(new Set(counts).size).toBe(1);
  });

  it('rejects a value outside 1 to 5, naming the field', () => {
    const parsed = runConfigSchema.safeParse({ dataset: { path: '/d' }, training: { captionsPerImage: 6 } });
    expect(parsed.success).toBe(false);
    expect(parsed.error!.issues[0]!.path.join('.')).toBe('training.captionsPerImage');
  });
});
