import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initialEarlyStopping, recordEpoch, shouldStop } from '../../src/main/ml/train/earlyStopping';
import { AdamOptimizer, clipByGlobalNorm } from '../../src/main/ml/train/optimizer';
import { initialPlateauState, learningRateAt, samplingProbabilityAt, updatePlateau } from '../../src/main/ml/train/schedule';
import { configFromPreset } from '../../src/shared/runConfig';
import { useTestBackend } from '../helpers/captionModel';

beforeAll(useTestBackend);

const schedule = (changes: Partial<ReturnType<typeof configFromPreset>['schedule']>) => ({
  ...configFromPreset('shapes-quick', { dataset: { path: '/d' } }).schedule,
  ...changes,
});

describe('Adam and AdamW', () => {
  const target = tf.tensor2d([
    [1, -2],
    [0.5, 3],
  ]);
  const lossOf = (w: tf.Tensor) => tf.sum(tf.square(tf.sub(w, target))) as tf.Scalar;

  it('Adam matches tfjs tf.train.adam step for step', () => {
    const ours = tf.variable(tf.zeros([2, 2]));
    const theirs = tf.variable(tf.zeros([2, 2]));
    const optimizer = new AdamOptimizer([['w', ours]], { beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: 0 });
    const reference = tf.train.adam(0.05, 0.9, 0.999, 1e-8);
    for (let step = 0; step < 6; step++) {
      const { grads } = tf.variableGrads(() => lossOf(ours), [ours]);
      optimizer.apply({ w: grads[ours.name]! }, 0.05);
      reference.minimize(() => lossOf(theirs), false, [theirs]);
    }
    // Equal up to float32 rounding (tfjs accumulates β^t in float32 tensors, we in doubles).
    expect(tf.max(tf.abs(tf.sub(ours, theirs))).dataSync()[0]).toBeLessThan(1e-5);
    expect(tf.max(tf.abs(ours)).dataSync()[0]).toBeGreaterThan(0.25);
    expect(optimizer.step).toBe(6);
  });

  it('AdamW decays matrices (not biases) by lr·wd·θ on top of the Adam step', () => {
    const matrix = tf.variable(tf.ones([2, 2]));
    const bias = tf.variable(tf.ones([2]));
    const optimizer = new AdamOptimizer(
      [
        ['m', matrix],
        ['b', bias],
      ],
      { beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: 0.1 },
    );
    // Zero gradients: the Adam part is 0, only the decay moves the weights.
    optimizer.apply({ m: tf.zeros([2, 2]), b: tf.zeros([2]) }, 0.5);
    expect(Array.from(matrix.dataSync())).toEqual([0.95, 0.95, 0.95, 0.95].map((v) => Math.fround(v)));
    expect(Array.from(bias.dataSync())).toEqual([1, 1]);
  });

  it('serializes and restores moments and step count', async () => {
    const w = tf.variable(tf.tensor1d([1, 2, 3]));
    const a = new AdamOptimizer([['w', w]], { beta1: 0.9, beta2: 0.99, epsilon: 1e-8, weightDecay: 0 });
    a.apply({ w: tf.tensor1d([0.1, -0.2, 0.3]) }, 0.01);
    const saved = await a.serialize();
    const w2 = tf.variable(w.clone());
    const b = new AdamOptimizer([['w', w2]], { beta1: 0.9, beta2: 0.99, epsilon: 1e-8, weightDecay: 0 });
    b.load(saved);
    a.apply({ w: tf.tensor1d([0.3, 0.2, -0.1]) }, 0.01);
    b.apply({ w: tf.tensor1d([0.3, 0.2, -0.1]) }, 0.01);
    expect(Array.from(w2.dataSync())).toEqual(Array.from(w.dataSync()));
    expect(b.step).toBe(2);
  });

  it('clips gradients to a global L2 norm', () => {
    const grads = { a: tf.tensor1d([3, 0]), b: tf.tensor1d([0, 4]) };
    const clipped = clipByGlobalNorm(grads, 1);
    expect(clipped.norm.dataSync()[0]).toBeCloseTo(5, 5);
    expect(Array.from(clipped.grads.a!.dataSync())[0]).toBeCloseTo(0.6, 5);
    expect(Array.from(clipped.grads.b!.dataSync())[1]).toBeCloseTo(0.8, 5);
    const untouched = clipByGlobalNorm(grads, 10);
    expect(untouched.grads.a!.dataSync()[0]).toBeCloseTo(3, 5);
  });
});

describe('learning-rate schedules', () => {
  it('constant and step', () => {
    expect(learningRateAt(schedule({ kind: 'constant' }), 1e-3, 7.5, 10)).toBe(1e-3);
    const step = schedule({ kind: 'step', stepEpochs: 2, gamma: 0.5 });
    expect([0, 1.9, 2, 4.5].map((e) => learningRateAt(step, 1, e, 10))).toEqual([1, 1, 0.5, 0.25]);
  });

  it('cosine rises linearly during warm-up, then decays to the minimum', () => {
    const cosine = schedule({ kind: 'cosine', warmupEpochs: 2, minLearningRate: 1e-5 });
    expect(learningRateAt(cosine, 1e-3, 1, 10)).toBeCloseTo(5e-4, 12);
    expect(learningRateAt(cosine, 1e-3, 2, 10)).toBeCloseTo(1e-3, 12);
    expect(learningRateAt(cosine, 1e-3, 6, 10)).toBeCloseTo(1e-5 + (1e-3 - 1e-5) / 2, 12);
    expect(learningRateAt(cosine, 1e-3, 10, 10)).toBeCloseTo(1e-5, 12);
  });

  it('hold-decay warms up, holds the full rate, then decays by a cosine over its last epochs', () => {
    const holdDecay = schedule({ kind: 'hold-decay', warmupEpochs: 1, decayEpochs: 4, minLearningRate: 1e-5 });
    expect(learningRateAt(holdDecay, 1e-3, 0.5, 10)).toBeCloseTo(5e-4, 12);
    expect([1, 3.5, 6].map((e) => learningRateAt(holdDecay, 1e-3, e, 10))).toEqual([1e-3, 1e-3, 1e-3]);
    expect(learningRateAt(holdDecay, 1e-3, 8, 10)).toBeCloseTo(1e-5 + (1e-3 - 1e-5) / 2, 12);
    expect(learningRateAt(holdDecay, 1e-3, 10, 10)).toBeCloseTo(1e-5, 12);
    // Decay epochs longer than the run after its warm-up: the decay starts where the warm-up ends, as cosine does.
    const allDecay = schedule({ kind: 'hold-decay', warmupEpochs: 1, decayEpochs: 50, minLearningRate: 1e-5 });
    const cosine = schedule({ kind: 'cosine', warmupEpochs: 1, minLearningRate: 1e-5 });
    for (const e of [0.5, 1, 4, 9.5]) expect(learningRateAt(allDecay, 1e-3, e, 10)).toBeCloseTo(learningRateAt(cosine, 1e-3, e, 10), 12);
  });

  it('reduce on plateau multiplies by the factor after `patience` bad epochs', () => {
    const plateau = schedule({ kind: 'plateau', plateauFactor: 0.1, plateauPatience: 2, minLearningRate: 1e-6 });
    let state = initialPlateauState();
    for (const value of [1.0, 1.2, 1.1, 1.3]) state = updatePlateau(plateau, state, value, 'max');
    // best 1.2 at epoch 2; 1.1 then 1.3? 1.3 improves, so no drop.
    expect(state.scale).toBe(1);
    for (const value of [1.0, 0.9]) state = updatePlateau(plateau, state, value, 'max');
    expect(state.scale).toBeCloseTo(0.1, 12);
    expect(learningRateAt(plateau, 1e-3, 5, 10, state)).toBeCloseTo(1e-4, 12);
  });

  it('scheduled sampling ramps linearly to its final probability', () => {
    const training = configFromPreset('shapes-quick', { dataset: { path: '/d' }, training: { scheduledSampling: 0.25, scheduledSamplingRampEpochs: 5 } }).training;
    expect([0, 2.5, 5, 9].map((e) => samplingProbabilityAt(training, e))).toEqual([0, 0.125, 0.25, 0.25]);
  });
});

describe('early stopping', () => {
  it('tracks the best epoch and stops after `patience` epochs without improvement', () => {
    let state = initialEarlyStopping('val/ciderD');
    const improvements: boolean[] = [];
    for (const [epoch, value] of [0.1, 0.3, 0.2, 0.25, 0.29].entries()) {
      const next = recordEpoch(state, epoch + 1, value);
      state = next.state;
      improvements.push(next.improved);
    }
    expect(improvements).toEqual([true, true, false, false, false]);
    expect(state.bestEpoch).toBe(2);
    expect(shouldStop(state, 3)).toBe(true);
    expect(shouldStop(state, 4)).toBe(false);
    expect(shouldStop(state, 0)).toBe(false);
    const loss = recordEpoch(recordEpoch(initialEarlyStopping('val/loss'), 1, 2).state, 2, 1.5);
    expect(loss.improved).toBe(true);
  });
});
