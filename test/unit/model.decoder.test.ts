import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import type { CaptionDecoder } from '../../src/main/ml/model/decoder';
import { maskedCrossEntropy } from '../../src/main/ml/model/loss';
import { ParamSet } from '../../src/main/ml/model/params';
import { createRecurrentLayer, runLayer, zeroState } from '../../src/main/ml/model/recurrent';
import { Rng } from '../../src/main/ml/model/rng';
import { batchOf, disposeBatch, disposeFeatures, SEQUENCES, tinyDecoder, tinyFeatures, useTestBackend } from '../helpers/captionModel';

beforeAll(useTestBackend);

const VARIANTS = ['init-inject', 'merge', 'attention'] as const;

/** Overwrites a weight with seeded values in ±0.5. */
function randomize(weight: tf.Variable, seed: number): void {
  const rng = new Rng(seed);
  weight.assign(tf.tensor(Array.from({ length: weight.size }, () => rng.next() - 0.5), weight.shape));
}
const CELLS = ['lstm', 'gru'] as const;

/**
 * A decoder with an option's weights added keeps every weight of the one
 * without it, in the same order and with the same starting values, and adds
 * `added` after them: both start as the same model.
 */
function expectPlainWeightsFirst(plain: CaptionDecoder, extended: CaptionDecoder, added: string[]): void {
  expect(extended.params.names()).toEqual([...plain.params.names(), ...added]);
  for (const [name, weight] of plain.params.entries()) expect(Array.from(extended.params.get(name).dataSync()), name).toEqual(Array.from(weight.dataSync()));
}

/** The attention weights of a teacher-forced pass [rows][steps][regions]. */
function teacherForcedAttention(decoder: CaptionDecoder, features: ReturnType<typeof tinyFeatures>, batch: ReturnType<typeof batchOf>): number[][][] {
  return tf.tidy(() => decoder.forward(features, batch.inputs, batch.mask, { training: false }).attention!.arraySync() as number[][][]);
}


describe('caption decoder', () => {
  for (const variant of VARIANTS) {
    for (const cell of CELLS) {
      for (const layers of [1, 2]) {
        it(`${variant}/${cell}/${layers} layer(s): output shapes and parameters`, () => {
          const decoder = tinyDecoder({ variant, cell, layers });
          const features = tinyFeatures(3);
          const batch = batchOf(SEQUENCES, 7);
          const { logits, attention } = decoder.forward(features, batch.inputs, batch.mask, { training: true, dropoutSeed: 3 });
          expect(logits.shape).toEqual([3 * 7, 13]);
          if (variant === 'attention') expect(attention?.shape).toEqual([3, 7, 4]);
          else expect(attention).toBeUndefined();
          const gates = cell === 'lstm' ? 4 : 3;
          expect(decoder.params.get('rnn0/recurrent').shape).toEqual([5, gates * 5]);
          expect(decoder.params.has('rnn1/kernel')).toBe(layers === 2);
          tf.dispose([logits, attention ?? []]);
          disposeBatch(batch);
          disposeFeatures(features);
          decoder.dispose();
        });
      }
    }
  }

  for (const variant of VARIANTS) {
    for (const cell of CELLS) {
      it(`${variant}/${cell}: padded steps change neither the loss nor the gradients`, () => {
        const decoder = tinyDecoder({ variant, cell, layers: 2 });
        const features = tinyFeatures(3);
        const short = batchOf(SEQUENCES, 6);
        const long = batchOf(SEQUENCES, 10);
        // Garbage words at padded input positions must not matter either.
        const noisyInputs = tf.tidy(() => tf.where(tf.equal(long.inputs, 0), tf.fill(long.inputs.shape, 9, 'int32'), long.inputs)) as tf.Tensor2D;
        const params = decoder.params.entries().map(([, v]) => v);
        const run = (batch: ReturnType<typeof batchOf>) =>
          tf.variableGrads(() => decoder.loss(features, batch, { training: false }).total, params);
        // The short batch masks every step; the long one, knowing the lengths, only the padded ones.
        const a = run({ inputs: short.inputs, targets: short.targets, mask: short.mask });
        const b = run({ ...long, inputs: noisyInputs });
        expect(b.value.dataSync()[0]).toBeCloseTo(a.value.dataSync()[0]!, 5);
        for (const name of Object.keys(a.grads)) {
          const diff = tf.tidy(() => tf.max(tf.abs(tf.sub(a.grads[name]!, b.grads[name]!))).dataSync()[0]!);
          expect(diff).toBeLessThan(1e-5);
        }
        tf.dispose([a.value, b.value, ...Object.values(a.grads), ...Object.values(b.grads), noisyInputs]);
        disposeBatch(short);
        disposeBatch(long);
        disposeFeatures(features);
        decoder.dispose();
      });
    }
  }

  // One layer too: on native TensorFlow the attention decoder's teacher forcing is then one sequence node.
  const stepped = [...VARIANTS.map((v) => [v, 'lstm', 2, false] as const), ['attention', 'lstm', 1, false] as const, ['attention', 'gru', 1, false] as const];
  const withWordQuery = (['lstm', 'gru'] as const).flatMap((cell) => [1, 2].map((layers) => ['attention', cell, layers, true] as const));
  const withWordGlimpse = (['lstm', 'gru'] as const).flatMap((cell) => [1, 2].map((layers) => ['attention', cell, layers, true, true] as const));
  // Led by the last 3 and 4 words: the history the steps carry must be the caption's, shifted.
  const withLongerGlimpse = ([3, 4] as const).flatMap((glimpseWords) => (['lstm', 'gru'] as const).map((cell) => ['attention', cell, 1, true, true, glimpseWords] as const));
  // Coverage: each step's attention reads the sum of the earlier ones, which the steps must carry.
  const withCoverage = (['lstm', 'gru'] as const).flatMap((cell) => [1, 2].map((layers) => ['attention', cell, layers, true, true, undefined, true] as const));
  for (const [variant, cell, layers, wordQuery, wordGlimpse = false, glimpseWords = undefined, coverage = false] of [...stepped, ...withWordQuery, ...withWordGlimpse, ...withLongerGlimpse, ...withCoverage]) {
    const named = `${variant}/${cell}, ${layers} layer(s)${wordQuery ? ', word in the attention query' : ''}${wordGlimpse ? ', word glimpse in the output' : ''}${glimpseWords ? ` led by ${glimpseWords} words` : ''}${coverage ? ', coverage' : ''}`;
    // With the grid projected once (beam search's plan), steps read α·(grid·W) instead of (α·grid)·W.
    for (const projectGrid of variant === 'attention' ? [false, true] : [false]) it(`${named}${projectGrid ? ', grid projected' : ''}: stepping word by word gives the teacher-forced log-probabilities`, () => {
      const decoder = tinyDecoder({ variant, cell, layers, wordQuery, wordGlimpse, coverage, ...(glimpseWords ? { glimpseWords } : {}) });
      // The word, glimpse and coverage kernels start at zero; give them values, so the steps really depend on them.
      if (wordQuery) randomize(decoder.params.get('attention/wordKernel'), 4);
      if (wordGlimpse) randomize(decoder.params.get('wordGlimpse/outputKernel'), 6);
      if (coverage) randomize(decoder.params.get('attention/coverageKernel'), 8);
      const features = tinyFeatures(3);
      const batch = batchOf(SEQUENCES, 6);
      const forced = tf.tidy(() => tf.logSoftmax(decoder.forward(features, batch.inputs, batch.mask, { training: false }).logits).arraySync() as number[][]);
      const stepped: number[][][] = [];
      let state = decoder.initialState(features, projectGrid ? { beams: 1, steps: 6, projectGrid } : undefined);
      if (projectGrid) expect(state.gridOut).toBeDefined();
      const inputs = batch.inputs.arraySync() as number[][];
      for (let t = 0; t < 6; t++) {
        const out = decoder.step(tf.tensor1d(inputs.map((row) => row[t]!), 'int32'), state);
        stepped.push(out.logProbs.arraySync() as number[][]);
        state = out.state;
      }
      for (let row = 0; row < 3; row++) {
        for (let t = 0; t < SEQUENCES[row]!.length - 1; t++) {
          const a = forced[row * 6 + t]!;
          const b = stepped[t]![row]!;
          for (let v = 0; v < 13; v++) expect(b[v]).toBeCloseTo(a[v]!, 4);
        }
      }
      disposeBatch(batch);
      disposeFeatures(features);
      decoder.dispose();
    });
  }

  it('decoder.recurrentInit orthogonal: every recurrent kernel starts with orthonormal rows; glorot does not', () => {
    const rowGramError = (weight: tf.Variable): number =>
      tf.tidy(() => {
        const w = weight as unknown as tf.Tensor2D;
        const gram = tf.matMul(w, w, false, true);
        return tf.max(tf.abs(tf.sub(gram, tf.eye(w.shape[0])))).dataSync()[0]!;
      });
    for (const cell of CELLS) {
      const orthogonal = tinyDecoder({ variant: 'attention', cell, layers: 2, recurrentInit: 'orthogonal' });
      const glorot = tinyDecoder({ variant: 'attention', cell, layers: 2 });
      for (const name of ['rnn0/recurrent', 'rnn1/recurrent']) {
        expect(rowGramError(orthogonal.params.get(name)), `${cell} ${name}`).toBeLessThan(1e-5);
        expect(rowGramError(glorot.params.get(name)), `${cell} ${name}`).toBeGreaterThan(0.05);
      }
      orthogonal.dispose();
      glorot.dispose();
    }
  });

  it('attention with the word in its query: starts as the decoder without it, and the word moves the attention once its kernel is trained', () => {
    const plain = tinyDecoder({ variant: 'attention', dropout: 0 });
    const queried = tinyDecoder({ variant: 'attention', dropout: 0, wordQuery: true });
    // The word kernel is the last weight and starts at zero: every other weight is the plain decoder's.
    expectPlainWeightsFirst(plain, queried, ['attention/wordKernel']);
    expect(queried.params.get('attention/wordKernel').shape).toEqual([6, 4]);
    const features = tinyFeatures(3);
    const batch = batchOf(SEQUENCES, 6);
    const attention = (decoder: typeof plain) => teacherForcedAttention(decoder, features, batch);
    expect(attention(queried)).toEqual(attention(plain));
    randomize(queried.params.get('attention/wordKernel'), 4);
    const moved = attention(queried).flat(2).map((value, i) => Math.abs(value - attention(plain).flat(2)[i]!));
    expect(Math.max(...moved)).toBeGreaterThan(1e-3);
    expect(() => tinyDecoder({ variant: 'merge', wordQuery: true }).params.get('attention/wordKernel')).toThrow(/No parameter/);
    disposeBatch(batch);
    disposeFeatures(features);
    plain.dispose();
    queried.dispose();
  });

  it('attention with the word glimpse in the output: starts as the decoder without it, and once trained the words read move every step\'s output', () => {
    const plain = tinyDecoder({ variant: 'attention', dropout: 0 });
    const glimpsing = tinyDecoder({ variant: 'attention', dropout: 0, wordGlimpse: true });
    expectPlainWeightsFirst(plain, glimpsing, ['wordGlimpse/queryKernel', 'wordGlimpse/score', 'wordGlimpse/outputKernel']);
    expect(glimpsing.params.get('wordGlimpse/queryKernel').shape).toEqual([12, 4]);
    expect(glimpsing.params.get('wordGlimpse/outputKernel').shape).toEqual([7, 5]);
    const features = tinyFeatures(3);
    const batch = batchOf(SEQUENCES, 6);
    const logits = (decoder: typeof plain) => tf.tidy(() => decoder.forward(features, batch.inputs, batch.mask, { training: false }).logits.arraySync() as number[][]);
    expect(logits(glimpsing)).toEqual(logits(plain));
    // The output kernel starts at zero, yet the query learns from the first step once it has moved.
    const { value, grads } = tf.variableGrads(() => glimpsing.loss(features, batch, { training: false }).total, [glimpsing.params.get('wordGlimpse/outputKernel')]);
    expect(tf.max(tf.abs(Object.values(grads)[0]!)).dataSync()[0]).toBeGreaterThan(0);
    tf.dispose([value, ...Object.values(grads)]);
    randomize(glimpsing.params.get('wordGlimpse/outputKernel'), 4);
    const before = logits(glimpsing);
    const moved = before.map((row, i) => Math.max(...row.map((value, v) => Math.abs(value - logits(plain)[i]![v]!))));
    for (let i = 0; i < moved.length; i++) expect(moved[i], `row ${Math.floor(i / 6)} step ${i % 6}`).toBeGreaterThan(1e-4);
    // Where it looks depends on the words: another query kernel, other outputs.
    randomize(glimpsing.params.get('wordGlimpse/queryKernel'), 7);
    const requeried = logits(glimpsing).flat().map((value, i) => Math.abs(value - before.flat()[i]!));
    expect(Math.max(...requeried)).toBeGreaterThan(1e-4);
    expect(() => tinyDecoder({ variant: 'merge', wordGlimpse: true }).params.get('wordGlimpse/outputKernel')).toThrow(/No parameter/);
    disposeBatch(batch);
    disposeFeatures(features);
    plain.dispose();
    glimpsing.dispose();
  });

  it('attention with coverage: starts as the decoder without it; once trained, where it looked before moves each later step\'s attention, and beams sharing an image step as rows with their own copy', () => {
    const plain = tinyDecoder({ variant: 'attention', dropout: 0 });
    const covered = tinyDecoder({ variant: 'attention', dropout: 0, coverage: true });
    expectPlainWeightsFirst(plain, covered, ['attention/coverageKernel']);
    expect(covered.params.get('attention/coverageKernel').shape).toEqual([1, 4]);
    const features = tinyFeatures(3);
    const batch = batchOf(SEQUENCES, 6);
    const attention = (decoder: typeof plain) => teacherForcedAttention(decoder, features, batch);
    expect(attention(covered)).toEqual(attention(plain));
    randomize(covered.params.get('attention/coverageKernel'), 4);
    const before = attention(plain);
    const after = attention(covered);
    // The first step has looked nowhere yet, so only the later steps move.
    for (let row = 0; row < 3; row++) {
      expect(Math.max(...after[row]![0]!.map((value, l) => Math.abs(value - before[row]![0]![l]!)))).toBeLessThan(1e-6);
      expect(Math.max(...after[row]![2]!.map((value, l) => Math.abs(value - before[row]![2]![l]!)))).toBeGreaterThan(1e-4);
    }
    // Three beams per image: sharing the image's grid (one copy per image) and gathering it per row give the same steps.
    const expand = tf.tensor1d([0, 0, 0, 1, 1, 1, 2, 2, 2], 'int32');
    const initial = covered.initialState(features);
    let shared = covered.selectRows(initial, expand, { imageRowsUnchanged: true });
    let gathered = covered.selectRows(initial, expand);
    expect(shared.grid!.shape[0]).toBe(3);
    expect(gathered.grid!.shape[0]).toBe(9);
    expect(shared.coverage!.shape).toEqual([9, 4]);
    for (const tokens of [[1, 2, 3, 4, 5, 6, 7, 8, 9], [9, 8, 7, 6, 5, 4, 3, 2, 1], [3, 3, 3, 5, 5, 5, 7, 7, 7]]) {
      const a = covered.stepLogits(tf.tensor1d(tokens, 'int32'), shared);
      const b = covered.stepLogits(tf.tensor1d(tokens, 'int32'), gathered);
      expect(Math.max(...Array.from(tf.abs(tf.sub(a.logits, b.logits)).dataSync()))).toBeLessThan(1e-5);
      expect(Math.max(...Array.from(tf.abs(tf.sub(a.state.coverage!, b.state.coverage!)).dataSync()))).toBeLessThan(1e-5);
      shared = a.state;
      gathered = b.state;
    }
    // After three steps each row's coverage sums its three attention distributions.
    for (const sum of Array.from(tf.sum(shared.coverage!, 1).dataSync())) expect(sum).toBeCloseTo(3, 5);
    expect(() => tinyDecoder({ variant: 'merge', coverage: true }).params.get('attention/coverageKernel')).toThrow(/No parameter/);
    disposeBatch(batch);
    disposeFeatures(features);
    plain.dispose();
    covered.dispose();
  });

  it('attention: the loss adds λ Σ_l (n/L − Σ_t α_tl)² over the n real steps and L regions', () => {
    const decoder = tinyDecoder({ variant: 'attention', doublyStochasticWeight: 0.7 });
    const features = tinyFeatures(3);
    const batch = batchOf(SEQUENCES, 6);
    const { total, crossEntropy } = decoder.loss(features, batch, { training: false });
    const { attention } = decoder.forward(features, batch.inputs, batch.mask, { training: false });
    const alphas = attention!.arraySync() as number[][][];
    const mask = batch.mask.arraySync() as number[][];
    let penalty = 0;
    for (let b = 0; b < 3; b++) {
      const steps = mask[b]!.reduce((x, y) => x + y, 0);
      for (let l = 0; l < 4; l++) {
        let sum = 0;
        for (let t = 0; t < 6; t++) sum += mask[b]![t]! * alphas[b]![t]![l]!;
        penalty += (steps / 4 - sum) ** 2;
      }
      // attention weights of each step sum to one
      expect(alphas[b]![0]!.reduce((x, y) => x + y, 0)).toBeCloseTo(1, 5);
    }
    expect(total.dataSync()[0]! - crossEntropy.dataSync()[0]!).toBeCloseTo((0.7 * penalty) / 3, 4);
    decoder.dispose();
  });

  it('attention: evenly spread attention costs nothing, whatever the caption lengths', () => {
    const decoder = tinyDecoder({ variant: 'attention', doublyStochasticWeight: 5 });
    // A zero score vector gives every region the same energy: α = 1/L at every step.
    decoder.params.get('attention/score').assign(tf.zerosLike(decoder.params.get('attention/score')));
    const features = tinyFeatures(3);
    const batch = batchOf(SEQUENCES, 6);
    const lengths = (batch.mask.sum(1).arraySync() as number[]);
    expect(new Set(lengths).size).toBeGreaterThan(1);
    const { total, crossEntropy } = decoder.loss(features, batch, { training: false });
    expect(total.dataSync()[0]!).toBeCloseTo(crossEntropy.dataSync()[0]!, 5);
    tf.dispose([total, crossEntropy]);
    disposeBatch(batch);
    disposeFeatures(features);
    decoder.dispose();
  });

  it('attention: the regularizer pulls towards even attention (peaked attention costs more)', () => {
    const decoder = tinyDecoder({ variant: 'attention', doublyStochasticWeight: 1 });
    const features = tinyFeatures(3);
    const batch = batchOf(SEQUENCES, 6);
    const regularizer = () => {
      const { total, crossEntropy } = decoder.loss(features, batch, { training: false });
      const value = total.dataSync()[0]! - crossEntropy.dataSync()[0]!;
      tf.dispose([total, crossEntropy]);
      return value;
    };
    const score = decoder.params.get('attention/score');
    score.assign(tf.zerosLike(score));
    const even = regularizer();
    score.assign(tf.mul(tf.onesLike(score), 50));
    const peaked = regularizer();
    expect(even).toBeCloseTo(0, 5);
    expect(peaked).toBeGreaterThan(0.1);
    disposeBatch(batch);
    disposeFeatures(features);
    decoder.dispose();
  });

  it('scheduled sampling is reproducible from its seed and differs from teacher forcing', () => {
    const decoder = tinyDecoder({ variant: 'merge', dropout: 0.2 });
    const features = tinyFeatures(3);
    const batch = batchOf(SEQUENCES, 6);
    const lossWith = (p: number, seed: number) =>
      decoder.loss(features, batch, { training: true, dropoutSeed: 5, samplingProbability: p, samplingSeed: seed }).total.dataSync()[0]!;
    expect(lossWith(0.9, 17)).toBe(lossWith(0.9, 17));
    expect(lossWith(0.9, 17)).not.toBe(lossWith(0, 17));
    decoder.dispose();
  });

  for (const variant of VARIANTS) {
    it(`${variant}: coordinate channels start with zero weights, so the decoder starts as the one without them, and they train`, () => {
      const plain = tinyDecoder({ variant, featureDim: 5, dropout: 0 });
      const located = tinyDecoder({ variant, featureDim: 7, addedChannels: 2, dropout: 0 });
      // Every weight is the plain decoder's, with zero rows added for the two coordinates where it reads the image.
      expect(located.params.names()).toEqual(plain.params.names());
      for (const [name, weight] of located.params.entries()) {
        const base = plain.params.get(name);
        if (weight.shape[0] === base.shape[0]) {
          expect(Array.from(weight.dataSync()), name).toEqual(Array.from(base.dataSync()));
          continue;
        }
        expect(weight.shape, name).toEqual([base.shape[0]! + 2, ...base.shape.slice(1)]);
        const rows = weight.arraySync() as number[][];
        expect(rows.slice(0, base.shape[0]), name).toEqual(base.arraySync());
        expect(rows.slice(base.shape[0]).flat().every((value) => value === 0), name).toBe(true);
      }
      const features = tinyFeatures(3);
      const cells = features.grid!.shape[1];
      const xy = tf.tensor3d(Array.from({ length: 3 * cells * 2 }, (_, i) => (i % 5) / 2 - 1), [3, cells, 2]);
      const withXy: typeof features = {
        pooled: tf.concat([tf.slice(features.pooled!, [0, 0], [-1, 5]), tf.zeros([3, 2])], 1) as tf.Tensor2D,
        grid: tf.concat([tf.slice(features.grid!, [0, 0, 0], [-1, -1, 5]), xy], 2) as tf.Tensor3D,
      };
      const without: typeof features = { pooled: tf.slice(features.pooled!, [0, 0], [-1, 5]), grid: tf.slice(features.grid!, [0, 0, 0], [-1, -1, 5]) };
      const batch = batchOf(SEQUENCES, 6);
      const a = plain.loss(without, batch, { training: false }).total.dataSync()[0]!;
      const { value, grads } = tf.variableGrads(() => located.loss(withXy, batch, { training: false }).total, located.params.entries().map(([, v]) => v));
      expect(value.dataSync()[0]).toBeCloseTo(a, 5);
      // The coordinate rows get a gradient: they learn from the first step.
      const readers = variant === 'attention' ? ['attention/gridKernel', 'attention/contextKernel', 'attention/outputKernel'] : [];
      for (const name of readers) {
        const grad = grads[located.params.get(name).name]!;
        const rowsGrad = tf.tidy(() => tf.max(tf.abs(tf.slice(grad, [5, 0], [2, -1]))).dataSync()[0]!);
        expect(rowsGrad, name).toBeGreaterThan(0);
      }
      tf.dispose([value, ...Object.values(grads), xy, withXy.pooled!, withXy.grid!, without.pooled!, without.grid!]);
      disposeBatch(batch);
      disposeFeatures(features);
      plain.dispose();
      located.dispose();
    });
  }

  it('loads only weights that fit: a missing, extra or reshaped weight is an error naming it', async () => {
    const queried = tinyDecoder({ variant: 'attention', wordQuery: true });
    // Another initialisation, so a load that assigned nothing would show.
    const plain = tinyDecoder({ variant: 'attention' }, 7);
    const saved = await queried.params.serialize();
    // The saved decoder has the word kernel the plain one lacks: loading it would silently drop part of the model.
    expect(() => plain.params.load(saved, 'run.ckpt')).toThrow(/run\.ckpt has weights that this model does not have: "attention\/wordKernel"/);
    expect(() => queried.params.load(saved.filter((tensor) => tensor.name !== 'attention/wordKernel'), 'run.ckpt')).toThrow(/run\.ckpt has no weights for "attention\/wordKernel"/);
    const reshaped = saved.map((tensor) => (tensor.name === 'embedding' ? { ...tensor, shape: [tensor.shape[1]!, tensor.shape[0]!] } : tensor));
    expect(() => queried.params.load(reshaped, 'run.ckpt')).toThrow(/"embedding" has shape/);
    const before = Array.from(plain.params.get('embedding').dataSync());
    plain.params.load(saved.filter((tensor) => tensor.name !== 'attention/wordKernel'), 'run.ckpt');
    expect(Array.from(plain.params.get('embedding').dataSync())).not.toEqual(before);
    expect(Array.from(plain.params.get('embedding').dataSync())).toEqual(Array.from(queried.params.get('embedding').dataSync()));
    queried.dispose();
    plain.dispose();
  });

  it('zero rows must leave a row to draw', () => {
    expect(() => tinyDecoder({ variant: 'attention', featureDim: 2, addedChannels: 2 })).toThrow(/2 zero rows do not fit its 2 rows/);
  });
});

describe('recurrent cells', () => {
  it('the fused LSTM equals tfjs-layers LSTM (sigmoid gates) in outputs and gradients', () => {
    const params = new ParamSet();
    const layer = createRecurrentLayer(params, 'l', 'lstm', 3, 4, new Rng(5));
    const x = tf.randomNormal([2, 5, 3], 0, 1, 'float32', 9) as tf.Tensor3D;
    const model = tf.sequential({
      layers: [tf.layers.lstm({ units: 4, returnSequences: true, recurrentActivation: 'sigmoid', inputShape: [5, 3] })],
    });
    model.layers[0]!.setWeights([layer.kernel, layer.recurrent, layer.bias]);
    const ours = runLayer(layer, x, zeroState(layer, 2), null).outputs;
    const theirs = model.predict(x) as tf.Tensor;
    expect(tf.max(tf.abs(tf.sub(ours, theirs))).dataSync()[0]).toBeLessThan(1e-5);

    // Gradient of the same scalar with respect to the input kernel, through each implementation.
    const weights = tf.randomNormal([2, 5, 4], 0, 1, 'float32', 4);
    const ourGrads = tf.variableGrads(() => tf.sum(tf.mul(runLayer(layer, x, zeroState(layer, 2), null).outputs, weights)) as tf.Scalar, [
      layer.kernel,
    ]);
    const theirKernel = model.layers[0]!.trainableWeights[0]!.read() as tf.Variable;
    const theirGrads = tf.variableGrads(() => tf.sum(tf.mul(model.apply(x) as tf.Tensor, weights)) as tf.Scalar, [theirKernel]);
    const a = ourGrads.grads[layer.kernel.name]!;
    const b = theirGrads.grads[theirKernel.name]!;
    expect(tf.max(tf.abs(a)).dataSync()[0]).toBeGreaterThan(1e-3);
    expect(tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]).toBeLessThan(1e-4);
    params.dispose();
  });

  for (const cell of ['lstm', 'gru'] as const) {
    it(`${cell}: gradients match finite differences`, () => {
      const decoder = tinyDecoder({ variant: 'init-inject', cell, dropout: 0.1 }, 3);
      const features = tinyFeatures(3);
      const batch = batchOf(SEQUENCES, 6);
      const loss = () => decoder.loss(features, batch, { training: false }).total;
      const names = ['rnn0/recurrent', 'rnn0/kernel', 'init/kernel', 'embedding'];
      const vars = names.map((name) => decoder.params.get(name));
      const { grads } = tf.variableGrads(loss, vars);
      const rng = new Rng(8);
      for (const [index, name] of names.entries()) {
        const variable = vars[index]!;
        const analytic = grads[variable.name]!.dataSync();
        const values = variable.dataSync().slice();
        for (let probe = 0; probe < 4; probe++) {
          const i = rng.int(values.length);
          const h = 1e-2;
          const at = (delta: number) => {
            const copy = values.slice();
            copy[i] = values[i]! + delta;
            variable.assign(tf.tensor(copy, variable.shape));
            return tf.tidy(() => loss().dataSync()[0]!);
          };
          const numeric = (at(h) - at(-h)) / (2 * h);
          variable.assign(tf.tensor(values, variable.shape));
          expect(Math.abs(numeric - analytic[i]!), `${name}[${i}]`).toBeLessThan(2e-3 + 2e-2 * Math.abs(numeric));
        }
      }
      decoder.dispose();
    });
  }
});

describe('masked cross-entropy', () => {
  it('equals −Σ q log p over real tokens, with the softmax − q gradient', () => {
    const logits = tf.randomNormal([4, 6], 0, 2, 'float32', 2) as tf.Tensor2D;
    const targets = tf.tensor1d([1, 5, 0, 3], 'int32');
    const weights = tf.tensor1d([1, 1, 0, 1]);
    for (const smoothing of [0, 0.1]) {
      const reference = (x: tf.Tensor) => {
        const q = tf.add(tf.mul(tf.oneHot(targets, 6), 1 - smoothing), smoothing / 6);
        const perToken = tf.neg(tf.sum(tf.mul(q, tf.logSoftmax(x)), 1));
        return tf.div(tf.sum(tf.mul(perToken, weights)), tf.sum(weights));
      };
      const ours = tf.grad((x: tf.Tensor) => maskedCrossEntropy(x as tf.Tensor2D, targets, weights, smoothing))(logits);
      const theirs = tf.grad(reference)(logits);
      expect(maskedCrossEntropy(logits, targets, weights, smoothing).dataSync()[0]).toBeCloseTo(reference(logits).dataSync()[0]!, 5);
      expect(tf.max(tf.abs(tf.sub(ours, theirs))).dataSync()[0]).toBeLessThan(1e-6);
      // The padded row gets exactly zero gradient.
      expect(tf.max(tf.abs(ours.slice([2, 0], [1, 6]))).dataSync()[0]).toBe(0);
    }
  });
});
