/** Tiny caption models, features and batches for the model, decoding and training tests. */
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/main/ml/backend';
import { CaptionDecoder, type CaptionBatch, type DecoderFeatures, type DecoderOptions } from '../../src/main/ml/model/decoder';
import { Rng } from '../../src/main/ml/model/rng';

/**
 * The backend the workbench itself would pick (native TensorFlow where it is
 * set up, as in CI; else wasm or pure JS), or the one CAPTIONER_BACKEND names,
 * so the same tests run on every backend.
 */
export async function useTestBackend(): Promise<void> {
  await initBackend();
}

export function tinyDecoder(overrides: Partial<DecoderOptions> = {}, seed = 1): CaptionDecoder {
  return new CaptionDecoder(
    {
      variant: 'merge',
      cell: 'lstm',
      layers: 1,
      vocabSize: 13,
      embeddingDim: 6,
      units: 5,
      dropout: 0.2,
      attentionDim: 4,
      doublyStochasticWeight: 1,
      featureDim: 7,
      ...overrides,
    },
    new Rng(seed),
  );
}

/** Deterministic features for `rows` images: pooled [rows, 7] and grid [rows, 4, 7]. */
export function tinyFeatures(rows = 3, seed = 11): DecoderFeatures {
  const rng = new Rng(seed);
  const values = (n: number) => Float32Array.from({ length: n }, () => rng.normal() * 2);
  return { pooled: tf.tensor2d(values(rows * 7), [rows, 7]), grid: tf.tensor3d(values(rows * 4 * 7), [rows, 4, 7]) };
}

export function disposeFeatures(features: DecoderFeatures): void {
  features.pooled?.dispose();
  features.grid?.dispose();
}

/**
 * A batch from token rows (<start> ... <end>), right-padded to `steps`
 * positions (inputs and targets are both `steps` long).
 */
export function batchOf(sequences: number[][], steps: number): CaptionBatch {
  const inputs: number[][] = [];
  const targets: number[][] = [];
  const mask: number[][] = [];
  for (const sequence of sequences) {
    const input = sequence.slice(0, -1);
    const target = sequence.slice(1);
    if (target.length > steps) throw new Error('sequence longer than steps');
    const pad = (row: number[]) => [...row, ...new Array(steps - row.length).fill(0)];
    inputs.push(pad(input));
    targets.push(pad(target));
    mask.push(pad(target.map(() => 1)));
  }
  return {
    inputs: tf.tensor2d(inputs, undefined, 'int32'),
    targets: tf.tensor2d(targets, undefined, 'int32'),
    mask: tf.tensor2d(mask, undefined, 'float32'),
    lengths: sequences.map((sequence) => sequence.length - 1),
  };
}

export function disposeBatch(batch: CaptionBatch): void {
  batch.inputs.dispose();
  batch.targets.dispose();
  batch.mask.dispose();
}

/** <start> … <end> sequences over the tiny vocabulary (ids 4..12 are words). */
export const SEQUENCES = [
  [1, 4, 5, 6, 2],
  [1, 7, 2],
  [1, 8, 9, 10, 11, 12, 2],
];
