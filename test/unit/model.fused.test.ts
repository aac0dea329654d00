/**
 * The fused native-TensorFlow paths (BlockLSTMV2/BlockLSTMGradV2, the GRU
 * sequence with written-out BPTT, SparseSoftmaxCrossEntropyWithLogits) give
 * the reference ops' values and gradients to 1e-5. Each check runs both paths
 * on the native backend; skipped, with the reason printed, where it is not
 * built. On the JS backends the fused paths must stay off.
 */
import * as tf from '@tensorflow/tfjs';
import { afterEach, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/main/ml/backend';
import { maskedCrossEntropy } from '../../src/main/ml/model/loss';
import { nativeDropout, nativeDropoutSteps } from '../../src/main/ml/model/fused/activations';
import { fusedKernelsEnabled, nativeRandomEnabled, recordRawOps, setFusedKernels } from '../../src/main/ml/model/fused/nativeOps';
import { attentionGruSequence } from '../../src/main/ml/model/fused/attentionGruSequence';
import { attentionLstmSequence } from '../../src/main/ml/model/fused/attentionLstmSequence';
import { denseRelu } from '../../src/main/ml/model/fused/denseRelu';
import { outputCrossEntropy } from '../../src/main/ml/model/fused/outputCrossEntropy';
import { ParamSet } from '../../src/main/ml/model/params';
import { createRecurrentLayer, sequenceOutputs, stepMasks, type CellKind } from '../../src/main/ml/model/recurrent';
import { Rng } from '../../src/main/ml/model/rng';
import { AdamOptimizer, clipByGlobalNorm } from '../../src/main/ml/train/optimizer';
import { batchOf, disposeBatch, disposeFeatures, SEQUENCES, tinyDecoder, tinyFeatures } from '../helpers/captionModel';

let reason = '';
try {
  await initBackend({ ...process.env, CAPTIONER_BACKEND: process.env.CAPTIONER_BACKEND ?? 'tensorflow' });
  if (tf.getBackend() !== 'tensorflow') reason = `the active backend is ${tf.getBackend()}`;
} catch (error) {
  reason = (error as Error).message;
}
if (reason) console.warn(`Skipping the fused-kernel equality checks: ${reason}`);
const native = reason === '';

afterEach(() => setFusedKernels(null));

/** Largest |a − b| relative to max(1, |b|). */
function difference(a: tf.Tensor, b: tf.Tensor): number {
  return tf.tidy(() => tf.max(tf.div(tf.abs(tf.sub(a, b)), tf.maximum(1, tf.abs(b)))).dataSync()[0]!);
}

/** Runs `f` with the fused kernels on and off: its value and the gradients of `wrt`. */
function bothPaths(f: () => tf.Scalar, wrt: tf.Tensor[]) {
  const run = (fused: boolean) => {
    setFusedKernels(fused);
    return tf.valueAndGrads(() => f())(wrt);
  };
  return { fused: run(true), reference: run(false) };
}

function expectSame(result: ReturnType<typeof bothPaths>) {
  expect(difference(result.fused.value, result.reference.value)).toBeLessThan(1e-5);
  result.reference.grads.forEach((grad, i) => {
    expect(Math.max(...grad.abs().dataSync())).toBeGreaterThan(0); // gradients that could differ
    expect(difference(result.fused.grads[i]!, grad)).toBeLessThan(1e-5);
  });
  tf.dispose([result.fused.value, result.reference.value, ...result.fused.grads, ...result.reference.grads]);
}

describe('fused kernels', () => {
  it.skipIf(native)('are off on the JS backends', () => {
    expect(fusedKernelsEnabled()).toBe(false);
    expect(nativeRandomEnabled()).toBe(false);
  });

  it.skipIf(!native)('native dropout: the mask is fixed by the seed, drops about the rate, scales the rest, and is the gradient', () => {
    const x = tf.ones([200, 50]);
    const a = nativeDropout(x, 0.3, 17);
    const b = nativeDropout(x, 0.3, 17);
    const c = nativeDropout(x, 0.3, 18);
    expect(Array.from(a.dataSync())).toEqual(Array.from(b.dataSync()));
    expect(Array.from(a.dataSync())).not.toEqual(Array.from(c.dataSync()));
    const values = Array.from(a.dataSync());
    const dropped = values.filter((v) => v === 0).length / values.length;
    expect(dropped).toBeGreaterThan(0.27);
    expect(dropped).toBeLessThan(0.33);
    for (const v of values) if (v !== 0) expect(v).toBeCloseTo(1 / 0.7, 5);
    const grad = tf.grad((input: tf.Tensor) => tf.sum(nativeDropout(input, 0.3, 17)))(x);
    expect(Array.from(grad.dataSync())).toEqual(values);
    tf.dispose([x, a, b, c, grad]);
  });

  it.skipIf(!native)('native dropout of a sequence: each step gets exactly the mask of dropping it alone with its seed', () => {
    const x = tf.randomNormal([4, 3, 6], 0, 1, 'float32', 2) as tf.Tensor3D;
    const seeds = [11, 7930, 15849];
    const together = nativeDropoutSteps(x, 0.4, seeds);
    const alone = tf.stack(tf.unstack(x, 1).map((step, t) => nativeDropout(step, 0.4, seeds[t]!)), 1);
    expect(Array.from(together.dataSync())).toEqual(Array.from(alone.dataSync()));
    expect(together.dataSync().filter((v) => v === 0).length).toBeGreaterThan(0);
    tf.dispose([x, together, alone]);
  });

  it.skipIf(!native)('are on by default on native TensorFlow', () => {
    expect(fusedKernelsEnabled()).toBe(true);
  });

  for (const cell of ['lstm', 'gru'] as CellKind[]) {
    it.skipIf(!native)(`${cell} sequence: outputs and gradients of inputs, initial state and weights equal the step-by-step ops`, () => {
      const params = new ParamSet();
      const rng = new Rng(3);
      const layer = createRecurrentLayer(params, 'l', cell, 6, 5, rng);
      // Non-zero biases, so their gradients and the recurrent bias' path are exercised.
      tf.tidy(() => params.entries().forEach(([name, v]) => name.includes('ias') && v.assign(tf.randomNormal(v.shape, 0, 0.5, 'float32', 9))));
      const x = tf.randomNormal([3, 4, 6], 0, 1, 'float32', 1) as tf.Tensor3D;
      const h0 = tf.randomNormal([3, 5], 0, 1, 'float32', 2) as tf.Tensor2D;
      const c0 = tf.randomNormal([3, 5], 0, 1, 'float32', 4) as tf.Tensor2D;
      const weights = tf.randomNormal([3, 4, 5], 0, 1, 'float32', 5);
      const initial = cell === 'lstm' ? { h: h0, c: c0 } : { h: h0 };
      const f = () => tf.sum(tf.mul(sequenceOutputs(layer, x, initial, null), weights)) as tf.Scalar;
      const wrt = [x, h0, ...(cell === 'lstm' ? [c0] : []), ...params.entries().map(([, v]) => v)];
      expectSame(bothPaths(f, wrt));
      tf.dispose([x, h0, c0, weights]);
      params.dispose();
    });
  }

  for (const smoothing of [0, 0.1]) {
    it.skipIf(!native)(`cross-entropy (label smoothing ${smoothing}): value and gradient, padded tokens excluded`, () => {
      const logits = tf.randomNormal([6, 13], 0, 3, 'float32', 7) as tf.Tensor2D;
      const targets = tf.tensor1d([4, 5, 0, 12, 2, 0], 'int32');
      const weights = tf.tensor1d([1, 1, 0, 1, 1, 0]);
      const result = bothPaths(() => maskedCrossEntropy(logits, targets, weights, smoothing), [logits]);
      const padded = tf.tidy(() => tf.abs(tf.gather(result.fused.grads[0]!, [2, 5])).max().dataSync()[0]);
      expect(padded).toBe(0);
      expectSame(result);
      tf.dispose([logits, targets, weights]);
    });
  }

  for (const smoothing of [0, 0.1]) {
    it.skipIf(!native)(`output layer + cross-entropy as one node (label smoothing ${smoothing}): both losses and the gradients of h, W and b`, () => {
      const hidden = tf.randomNormal([6, 5], 0, 1, 'float32', 3) as tf.Tensor2D;
      const kernel = tf.randomNormal([5, 13], 0, 1, 'float32', 4) as tf.Tensor2D;
      const bias = tf.randomNormal([13], 0, 1, 'float32', 6) as tf.Tensor1D;
      const targets = tf.tensor1d([4, 5, 0, 12, 4, 0], 'int32');
      const weights = tf.tensor1d([1, 1, 0, 1, 1, 0]);
      // Both outputs carry gradient, with different weights, so both halves of the backward pass count.
      const combine = (total: tf.Scalar, plain: tf.Scalar) => tf.add(total, tf.mul(plain, 0.5)) as tf.Scalar;
      const f = () => {
        if (fusedKernelsEnabled()) {
          const [total, plain] = tf.unstack(outputCrossEntropy(hidden, kernel, bias, targets, weights, smoothing)) as [tf.Scalar, tf.Scalar];
          return combine(total, plain);
        }
        const logits = tf.add(tf.matMul(hidden, kernel), bias) as tf.Tensor2D;
        return combine(maskedCrossEntropy(logits, targets, weights, smoothing), maskedCrossEntropy(logits, targets, weights, 0));
      };
      expectSame(bothPaths(f, [hidden, kernel, bias]));
      tf.dispose([hidden, kernel, bias, targets, weights]);
    });
  }

  it.skipIf(!native)('dense ReLU layer as one node: value and the gradients of x, W and b', () => {
    const x = tf.randomNormal([6, 5], 0, 1, 'float32', 3) as tf.Tensor2D;
    const kernel = tf.randomNormal([5, 4], 0, 1, 'float32', 4) as tf.Tensor2D;
    const bias = tf.randomNormal([4], 0, 1, 'float32', 6) as tf.Tensor1D;
    const weights = tf.randomNormal([6, 4], 0, 1, 'float32', 8);
    const layer = () => (fusedKernelsEnabled() ? denseRelu(x, kernel, bias) : tf.relu(tf.add(tf.matMul(x, kernel), bias)));
    const active = tf.tidy(() => tf.mean(tf.cast(tf.greater(layer(), 0), 'float32')).dataSync()[0]!);
    expect(active).toBeGreaterThan(0.2); // some units on, some off: both branches of the gradient
    expect(active).toBeLessThan(0.8);
    expectSame(bothPaths(() => tf.sum(tf.mul(layer(), weights)) as tf.Scalar, [x, kernel, bias]));
    tf.dispose([x, kernel, bias, weights]);
  });

  for (const variant of ['merge', 'init-inject', 'attention'] as const) {
    for (const cell of ['lstm', 'gru'] as CellKind[]) {
      it.skipIf(!native)(`${variant}/${cell}, two layers, padded batch, dropout, label smoothing: loss and every weight's gradient`, () => {
        const decoder = tinyDecoder({ variant, cell, layers: 2, dropout: 0.2 });
        const features = tinyFeatures(3);
        const batch = batchOf(SEQUENCES, 7);
        const params = decoder.params.entries().map(([, v]) => v);
        const f = () => decoder.loss(features, batch, { training: true, dropoutSeed: 5, labelSmoothing: 0.1 }).total;
        expectSame(bothPaths(f, params));
        disposeBatch(batch);
        disposeFeatures(features);
        decoder.dispose();
      });
    }
  }

  /**
   * The attention recurrence step by step on plain taped ops, as
   * `CaptionDecoder.attentionStep` and `cellStep` define it (one layer, no
   * masks): deep outputs [B, T, H] and attention weights [B, T, L]. Inputs:
   * xProj, grid, gridProj, h0, stateKernel, score, gateKernel, gateBias,
   * contextKernel, outputKernel, recurrent, then c0 (LSTM) or the recurrent
   * bias (GRU).
   */
  function attentionReference(cell: CellKind, [xProj, grid, gridProj, h0, ws, v, wg, bg, wc, wo, u, last]: tf.Tensor[]): { deep: tf.Tensor3D; alpha: tf.Tensor3D } {
    const [batch, steps] = xProj!.shape as [number, number, number];
    const [, regions, attentionDim] = gridProj!.shape as [number, number, number];
    let h = h0 as tf.Tensor2D;
    let c = last as tf.Tensor2D;
    const deeps: tf.Tensor2D[] = [];
    const alphas: tf.Tensor2D[] = [];
    const xSteps = tf.unstack(xProj!, 1) as tf.Tensor2D[];
    for (let t = 0; t < steps; t++) {
      const energy = tf.tanh(tf.add(gridProj!, tf.expandDims(tf.matMul(h, ws as tf.Tensor2D), 1)));
      const scores = tf.reshape(tf.matMul(tf.reshape(energy, [batch * regions, attentionDim]), v as tf.Tensor2D), [batch, regions]);
      const alpha = tf.softmax(scores) as tf.Tensor2D;
      const context = tf.reshape(tf.matMul(tf.expandDims(alpha, 1), grid as tf.Tensor3D), [batch, -1]);
      const gate = tf.sigmoid(tf.add(tf.matMul(h, wg as tf.Tensor2D), bg!));
      const gated = tf.mul(gate, context) as tf.Tensor2D;
      const x = tf.add(xSteps[t]!, tf.matMul(gated, wc as tf.Tensor2D));
      if (cell === 'lstm') {
        const [i, f, g, o] = tf.split(tf.add(x, tf.matMul(h, u as tf.Tensor2D)), 4, 1) as tf.Tensor2D[];
        c = tf.add(tf.mul(tf.sigmoid(f!), c), tf.mul(tf.sigmoid(i!), tf.tanh(g!))) as tf.Tensor2D;
        h = tf.mul(tf.sigmoid(o!), tf.tanh(c)) as tf.Tensor2D;
      } else {
        const [xz, xr, xn] = tf.split(x, 3, 1) as tf.Tensor2D[];
        const [hz, hr, hn] = tf.split(tf.add(tf.matMul(h, u as tf.Tensor2D), last!), 3, 1) as tf.Tensor2D[];
        const z = tf.sigmoid(tf.add(xz!, hz!));
        const r = tf.sigmoid(tf.add(xr!, hr!));
        const n = tf.tanh(tf.add(xn!, tf.mul(r, hn!)));
        h = tf.add(n, tf.mul(z, tf.sub(h, n))) as tf.Tensor2D;
      }
      deeps.push(tf.add(h, tf.matMul(gated, wo as tf.Tensor2D)) as tf.Tensor2D);
      alphas.push(alpha);
    }
    return { deep: tf.stack(deeps, 1) as tf.Tensor3D, alpha: tf.stack(alphas, 1) as tf.Tensor3D };
  }

  /** The sequence node of `cell` on the same inputs as `attentionReference`. */
  function attentionNode(cell: CellKind, x: tf.Tensor[]): { deep: tf.Tensor3D; alpha: tf.Tensor3D } {
    const [xProj, grid, gridProj, h0, stateKernel, score, gateKernel, gateBias, contextKernel, outputKernel, recurrent, last] = x;
    const as2d = (t: tf.Tensor | undefined) => t as tf.Tensor2D;
    const tensors = { xProj: xProj as tf.Tensor3D, grid: grid as tf.Tensor3D, gridProj: gridProj as tf.Tensor3D, h0: as2d(h0) };
    const attention = {
      stateKernel: as2d(stateKernel),
      score: as2d(score),
      gateKernel: as2d(gateKernel),
      gateBias: gateBias as tf.Tensor1D,
      contextKernel: as2d(contextKernel),
      outputKernel: as2d(outputKernel),
      recurrent: as2d(recurrent),
    };
    return cell === 'lstm'
      ? attentionLstmSequence({ ...tensors, c0: as2d(last) }, attention)
      : attentionGruSequence(tensors, { ...attention, recurrentBias: last as tf.Tensor1D });
  }

  for (const cell of ['lstm', 'gru'] as CellKind[]) {
    it.skipIf(!native)(`attention ${cell} sequence node: deep outputs, attention weights and the gradients of every input equal the step-by-step ops`, () => {
      const [B, T, L, C, A, H] = [3, 5, 6, 7, 4, 5];
      const g = cell === 'lstm' ? 4 : 3;
      const shapes = [[B, T, g * H], [B, L, C], [B, L, A], [B, H], [H, A], [A, 1], [H, 1], [1], [C, g * H], [C, H], [H, g * H], cell === 'lstm' ? [B, H] : [g * H]];
      const inputs = shapes.map((shape, k) => tf.randomNormal(shape, 0, k >= 4 ? 0.5 : 1, 'float32', 20 + k));
      const deepWeights = tf.randomNormal([B, T, H], 0, 1, 'float32', 40);
      const alphaWeights = tf.randomNormal([B, T, L], 0, 1, 'float32', 41);
      const objective = (out: { deep: tf.Tensor3D; alpha: tf.Tensor3D }) =>
        tf.add(tf.sum(tf.mul(out.deep, deepWeights)), tf.sum(tf.mul(out.alpha, alphaWeights))) as tf.Scalar;
      tf.tidy(() => {
        const a = attentionNode(cell, inputs);
        const b = attentionReference(cell, inputs);
        expect(difference(a.deep, b.deep)).toBeLessThan(1e-5);
        expect(difference(a.alpha, b.alpha)).toBeLessThan(1e-5);
      });
      const result = {
        fused: tf.valueAndGrads((...x: tf.Tensor[]) => objective(attentionNode(cell, x)))(inputs),
        reference: tf.valueAndGrads((...x: tf.Tensor[]) => objective(attentionReference(cell, x)))(inputs),
      };
      expectSame(result);
      tf.dispose([...inputs, deepWeights, alphaWeights]);
    });
  }

  /** A tiny attention decoder with one layer: the configuration that takes the sequence node on native TensorFlow. */
  const oneLayerAttention = (cell: CellKind, coverage = false) => tinyDecoder({ variant: 'attention', cell, layers: 1, dropout: 0.2, doublyStochasticWeight: 0.5, coverage });

  for (const cell of ['lstm', 'gru'] as CellKind[]) {
    it.skipIf(!native)(`attention/${cell}, one layer (the sequence node), padded batch, dropout, label smoothing, doubly stochastic: loss and the gradient of every weight and the grid`, () => {
      const decoder = oneLayerAttention(cell);
      const features = tinyFeatures(3);
      const batch = batchOf(SEQUENCES, 7);
      expect(stepMasks(batch.mask, batch.lengths).filter(Boolean).length).toBeGreaterThan(0); // padding is present
      const grid = features.grid!;
      const params = decoder.params.entries().map(([, v]) => v);
      const f = () => decoder.loss({ grid }, batch, { training: true, dropoutSeed: 5, labelSmoothing: 0.1 }).total;
      expectSame(bothPaths(f, [...params, grid]));
      disposeBatch(batch);
      disposeFeatures(features);
      decoder.dispose();
    });

    // Kernels that start at zero get values, so the forward pass depends on them too.
    const withWords = [
      { what: 'word in the attention query', options: { wordQuery: true }, kernels: [['attention/wordKernel', 9]] },
      {
        what: 'word glimpse in the output',
        options: { wordQuery: true, wordGlimpse: true },
        kernels: [['attention/wordKernel', 9], ['wordGlimpse/outputKernel', 10], ['wordGlimpse/queryKernel', 11]],
      },
      {
        what: 'word glimpse led by the last 4 words',
        options: { wordQuery: true, wordGlimpse: true, glimpseWords: 4 },
        kernels: [['attention/wordKernel', 9], ['wordGlimpse/outputKernel', 10], ['wordGlimpse/queryKernel', 11]],
      },
      { what: 'coverage in the attention', options: { coverage: true }, kernels: [['attention/coverageKernel', 12]] },
      {
        what: 'coverage with the word query and the word glimpse',
        options: { wordQuery: true, wordGlimpse: true, coverage: true },
        kernels: [['attention/wordKernel', 9], ['wordGlimpse/outputKernel', 10], ['attention/coverageKernel', 12]],
      },
    ] as const;
    for (const { what, options, kernels } of withWords) {
      it.skipIf(!native)(`attention/${cell}, one layer, ${what}: loss and the gradient of every weight (its kernels included) and the grid`, () => {
        const decoder = tinyDecoder({ variant: 'attention', cell, layers: 1, dropout: 0.2, ...options });
        for (const [name, seed] of kernels) {
          const kernel = decoder.params.get(name);
          kernel.assign(tf.randomUniform(kernel.shape, -0.5, 0.5, 'float32', seed));
        }
        const features = tinyFeatures(3);
        const batch = batchOf(SEQUENCES, 7);
        const grid = features.grid!;
        const params = decoder.params.entries().map(([, v]) => v);
        const f = () => decoder.loss({ grid }, batch, { training: true, dropoutSeed: 5 }).total;
        expectSame(bothPaths(f, [...params, grid]));
        disposeBatch(batch);
        disposeFeatures(features);
        decoder.dispose();
      });
    }

    it.skipIf(!native)(`attention/${cell}, one layer: the training step runs the sequence node, the reference path does not`, () => {
      const decoder = oneLayerAttention(cell);
      const features = tinyFeatures(3);
      const batch = batchOf(SEQUENCES, 7);
      const params = decoder.params.entries().map(([, v]) => v);
      // Raw ops only the node runs: BatchMatMulV2 by name (α·grid forward; dα, Σ dα·α, d(h·Ws) backward) and, for LSTMs, LSTMBlockCellGrad.
      const rawCounts = (fused: boolean) => {
        setFusedKernels(fused);
        const counts: Record<string, number> = {};
        recordRawOps((name) => (counts[name] = (counts[name] ?? 0) + 1));
        try {
          tf.tidy(() => {
            tf.valueAndGrads(() => decoder.loss(features, batch, { training: true, dropoutSeed: 5 }).total)(params);
          });
        } finally {
          recordRawOps(null);
        }
        return counts;
      };
      const fused = rawCounts(true);
      const reference = rawCounts(false);
      expect(fused.BatchMatMulV2).toBe(4 * 7 + 1);
      expect(fused.LSTMBlockCellGrad ?? 0).toBe(cell === 'lstm' ? 7 : 0);
      expect(reference.BatchMatMulV2 ?? 0).toBe(0);
      expect(reference.LSTMBlockCellGrad ?? 0).toBe(0);
      disposeBatch(batch);
      disposeFeatures(features);
      decoder.dispose();
    });

    for (const coverage of [false, true]) it.skipIf(!native)(`attention/${cell}, one layer${coverage ? ', coverage' : ''}: training steps through the sequence node leave the tensor count flat`, () => {
      const decoder = oneLayerAttention(cell, coverage);
      const features = tinyFeatures(3);
      const batch = batchOf(SEQUENCES, 7);
      const optimizer = new AdamOptimizer(decoder.params.entries(), { beta1: 0.9, beta2: 0.999, epsilon: 1e-7, weightDecay: 0 });
      const variables = decoder.params.entries().map(([, v]) => v);
      const names = new Map(decoder.params.entries().map(([name, v]) => [v.name, name]));
      const step = (seed: number) =>
        tf.tidy(() => {
          const { grads } = tf.variableGrads(() => decoder.loss(features, batch, { training: true, dropoutSeed: seed, labelSmoothing: 0.1 }).total, variables);
          const named: Record<string, tf.Tensor> = {};
          for (const [variableName, grad] of Object.entries(grads)) named[names.get(variableName)!] = grad;
          optimizer.apply(clipByGlobalNorm(named, 5).grads, () => 0.01);
        });
      step(1); // the optimizer's slots are made on the first step
      const before = tf.memory().numTensors;
      for (let seed = 2; seed < 5; seed++) {
        step(seed);
        expect(tf.memory().numTensors).toBe(before);
      }
      optimizer.dispose();
      disposeBatch(batch);
      disposeFeatures(features);
      decoder.dispose();
    });
  }

  for (const weightDecay of [0, 0.1]) {
    it.skipIf(!native)(`Adam${weightDecay > 0 ? 'W' : ''} with ResourceApplyAdam and the L2Loss clip norm: the reference update, step for step, and a resumable state`, async () => {
      const run = async (fused: boolean) => {
        setFusedKernels(fused);
        const matrix = tf.variable(tf.randomNormal([4, 3], 0, 1, 'float32', 1));
        const bias = tf.variable(tf.randomNormal([3], 0, 1, 'float32', 2));
        const optimizer = new AdamOptimizer(
          [
            ['m', matrix],
            ['b', bias],
          ],
          { beta1: 0.9, beta2: 0.99, epsilon: 1e-7, weightDecay },
        );
        const norms: number[] = [];
        for (let step = 0; step < 5; step++) {
          tf.tidy(() => {
            const { grads } = tf.variableGrads(() => tf.sum(tf.sin(tf.add(tf.matMul(tf.ones([2, 4]), matrix), bias))) as tf.Scalar, [matrix, bias]);
            const clipped = clipByGlobalNorm({ m: grads[matrix.name]!, b: grads[bias.name]! }, 0.5);
            norms.push(clipped.norm.dataSync()[0]!);
            optimizer.apply(clipped.grads, (name) => (name === 'm' ? 0.05 : 0.02));
          });
        }
        const state = await optimizer.serialize();
        const values = [matrix.clone(), bias.clone(), tf.tensor(state.m[0]!.data, state.m[0]!.shape), tf.tensor(state.v[1]!.data, state.v[1]!.shape)];
        optimizer.dispose();
        tf.dispose([matrix, bias]);
        return { values, norms, step: state.step };
      };
      const fused = await run(true);
      const reference = await run(false);
      expect(fused.step).toBe(5);
      fused.norms.forEach((norm, i) => expect(norm).toBeCloseTo(reference.norms[i]!, 5));
      expect(reference.norms[0]).toBeGreaterThan(0.5); // clipping was active
      reference.values.forEach((value, i) => expect(difference(fused.values[i]!, value)).toBeLessThan(1e-5));
      tf.dispose([...fused.values, ...reference.values]);
    });
  }

  it.skipIf(!native)('the step masks are not needed by the fused sequence: a longer padded batch gives the same loss', () => {
    const decoder = tinyDecoder({ variant: 'merge', cell: 'lstm', layers: 2 });
    const features = tinyFeatures(3);
    const short = batchOf(SEQUENCES, 6);
    const long = batchOf(SEQUENCES, 11);
    const loss = (batch: ReturnType<typeof batchOf>) => tf.tidy(() => decoder.loss(features, batch, { training: false }).total.dataSync()[0]!);
    expect(loss(long)).toBeCloseTo(loss(short), 6);
    expect(stepMasks(long.mask, long.lengths).filter(Boolean).length).toBeGreaterThan(0);
    disposeBatch(short);
    disposeBatch(long);
    disposeFeatures(features);
    decoder.dispose();
  });
});
