/**
 * The native TensorFlow backend, when `npm run setup:tensorflow` has built it:
 * it loads through the app's own tfjs, computes what plain JS computes, and
 * leaks no tensors. Without a build these tests are skipped, with the reason
 * printed.
 */
import * as tf from '@tensorflow/tfjs';
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadNativeBackend } from '../../src/main/ml/backend/native';
import { findBuilds, nativeRoots, nativeSupported } from '../../src/main/ml/backend/nativeBuilds';

const builds = findBuilds();
const skipReason = !nativeSupported()
  ? `native TensorFlow builds exist for Linux x86-64 only (this is ${process.platform}-${process.arch})`
  : !builds.cpu && !builds.gpu
    ? `no native TensorFlow build in ${nativeRoots().join(', ') || 'any known folder'}; run \`npm run setup:tensorflow\` to build one`
    : null;
if (skipReason) console.warn(`[backend.native.test] skipping the native backend tests: ${skipReason}.`);

/** Deterministic, non-trivial values without a random generator. */
function values(count: number, phase: number): Float32Array {
  return Float32Array.from({ length: count }, (_, i) => Math.sin(i * 0.37 + phase) * 2);
}

function jsMatMul(a: Float32Array, b: Float32Array, m: number, k: number, n: number): Float64Array {
  const out = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let sum = 0;
      for (let p = 0; p < k; p++) sum += (a[i * k + p] ?? 0) * (b[p * n + j] ?? 0);
      out[i * n + j] = sum;
    }
  }
  return out;
}

describe.sequential('native TensorFlow backend', () => {
  it.skipIf(skipReason !== null)("loads and becomes the backend of the app's tfjs", async () => {
    const load = await loadNativeBackend();
    expect(load.ok, load.info.reason).toBe(true);
    expect(load.info.name).toBe('tensorflow');
    // The app's import, not tfjs-node's: one tfjs-core at run time.
    expect(tf.getBackend()).toBe('tensorflow');
    expect(load.info.tensorflowVersion).toMatch(/^\d+\.\d+\.\d+/);
    expect(load.info.libraryPath && existsSync(load.info.libraryPath)).toBe(true);
  });

  it.skipIf(skipReason !== null)('multiplies matrices as plain JavaScript does', async () => {
    expect((await loadNativeBackend()).ok).toBe(true);
    const [m, k, n] = [37, 53, 29];
    const a = values(m * k, 0.1);
    const b = values(k * n, 1.3);
    const result = tf.tidy(() => tf.matMul(tf.tensor2d(a, [m, k]), tf.tensor2d(b, [k, n])));
    const product = result.dataSync();
    result.dispose();
    const expected = jsMatMul(a, b, m, k, n);
    expect(product.length).toBe(expected.length);
    let worst = 0;
    for (let i = 0; i < expected.length; i++) worst = Math.max(worst, Math.abs((product[i] ?? NaN) - (expected[i] ?? 0)));
    expect(worst).toBeLessThan(1e-3);
  });

  it.skipIf(skipReason !== null)('keeps the tensor count flat across tidied training steps', async () => {
    expect((await loadNativeBackend()).ok).toBe(true);
    const w = tf.variable(tf.tensor2d(values(16 * 8, 0.5), [16, 8]));
    const x = tf.tensor2d(values(4 * 16, 2.0), [4, 16]);
    const optimizer = tf.train.adam(0.01);
    const step = (): number =>
      tf.tidy(() => {
        const loss = optimizer.minimize(() => tf.mean(tf.square(tf.tanh(tf.matMul(x, w)))), true);
        return loss ? loss.dataSync()[0] ?? NaN : NaN;
      });
    // The first step creates Adam's moment variables; count after it.
    const first = step();
    const baseline = tf.memory().numTensors;
    let last = first;
    for (let i = 0; i < 10; i++) last = step();
    expect(tf.memory().numTensors).toBe(baseline);
    expect(last).toBeLessThan(first);
    optimizer.dispose();
    tf.dispose([w, x]);
  });
});
