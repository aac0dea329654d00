import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadWasmBackend } from '../../src/main/ml/backend/wasm';
import { ensureTrainingKernels } from '../../src/main/ml/backend/wasmKernels';

let wasm = false;
let registeredOnLoad: string[] = [];
beforeAll(async () => {
  wasm = (await loadWasmBackend()).ok;
  // Read before any test calls ensureTrainingKernels itself.
  registeredOnLoad = ['UnsortedSegmentSum', 'Conv2DBackpropFilter'].filter((name) => tf.getKernel(name, 'wasm') !== undefined);
  if (!wasm) console.warn('Skipping the wasm kernel checks: the wasm backend did not load.');
});

/** Gradients of an embedding lookup and of a strided convolution on the current backend. */
function gradients(): { embedding: number[]; filter: number[]; input: number[] } {
  ensureTrainingKernels();
  return tf.tidy(() => {
    const table = tf.tensor2d(Float32Array.from({ length: 7 * 3 }, (_, i) => Math.sin(i)), [7, 3]);
    const ids = tf.tensor2d([[1, 4, 4], [0, 6, 1]], [2, 3], 'int32');
    const weights = tf.tensor3d(Float32Array.from({ length: 18 }, (_, i) => Math.cos(i)), [2, 3, 3]);
    const embedding = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tf.gather(t, ids), weights)))(table);
    const x = tf.tensor4d(Float32Array.from({ length: 2 * 7 * 7 * 3 }, (_, i) => Math.sin(i * 0.37)), [2, 7, 7, 3]);
    const f = tf.tensor4d(Float32Array.from({ length: 3 * 3 * 3 * 5 }, (_, i) => Math.cos(i * 0.11)), [3, 3, 3, 5]);
    const [dx, df] = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.square(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 2, 'same'))))([x, f]);
    return { embedding: Array.from(embedding.dataSync()), filter: Array.from(df!.dataSync()), input: Array.from(dx!.dataSync()) };
  });
}

describe('wasm training kernels', () => {
  it('are registered by loading the wasm backend, so gradients outside a training run work', (context) => {
    if (!wasm) context.skip();
    expect(registeredOnLoad).toEqual(['UnsortedSegmentSum', 'Conv2DBackpropFilter']);
  });

  it('give the pure-JS backend\'s gradients for embeddings and convolution filters', async (context) => {
    if (!wasm) context.skip();
    await tf.setBackend('cpu');
    const expected = gradients();
    await tf.setBackend('wasm');
    const actual = gradients();
    for (const key of ['embedding', 'filter', 'input'] as const) {
      expect(actual[key]).toHaveLength(expected[key].length);
      actual[key].forEach((value, i) => expect(value, `${key}[${i}]`).toBeCloseTo(expected[key][i]!, 3));
    }
  });
});
