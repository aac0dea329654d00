/**
 * `npm run bench -- train [--steps N] [--backend NAME] [--matmul N]`
 *
 * Throughput of one training step of the reference configuration — merge
 * decoder, LSTM, embedding 256, 256 units, vocabulary 5,000, batch 64,
 * captions of 20 steps, frozen 1,280-dim image features (MobileNetV2-sized)
 * — next to the same backend's large-matmul rate measured in the same run.
 *
 * FLOPs are counted honestly: only matrix multiplications, 2 FLOPs per
 * multiply-add, and a training step as 3× the forward pass (backward = grad
 * w.r.t. inputs + grad w.r.t. weights, each as large as the forward matmul).
 * Elementwise work (gates, softmax, Adam) is not counted, so the achieved
 * rate is a lower bound of the work done. Per step:
 *
 *   forward = B·T·2·(E·4H + H·4H + H·H + H·V) + B·2·D·H
 *   step    = 3 · forward
 *
 * (input projection, recurrent matmul, merge dense, output layer per word;
 * image projection per caption.)
 */
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../src/main/ml/backend';
import { CaptionDecoder, type DecoderOptions } from '../src/main/ml/model/decoder';
import { deriveSeed, Rng } from '../src/main/ml/model/rng';
import type { HostBatch } from '../src/main/ml/train/batches';
import type { FeatureSource } from '../src/main/ml/train/featureSource';
import type { TrainingModel } from '../src/main/ml/train/modelSetup';
import { AdamOptimizer } from '../src/main/ml/train/optimizer';
import { trainStep } from '../src/main/ml/train/trainer';
import { ensureTrainingKernels } from '../src/main/ml/train/wasmKernels';
import type { BackendName } from '../src/shared/types';

const REFERENCE = { batch: 64, steps: 20, embeddingDim: 256, units: 256, vocab: 5000, featureDim: 1280 };

function option(args: string[], name: string): string | undefined {
  const index = args.indexOf(`--${name}`);
  return index >= 0 ? args[index + 1] : undefined;
}

/** Model FLOPs of one training step of the merge decoder (see the file comment). */
export function mergeStepFlops(c: typeof REFERENCE): { forward: number; step: number } {
  const { batch: B, steps: T, embeddingDim: E, units: H, vocab: V, featureDim: D } = c;
  const forward = B * T * 2 * (E * 4 * H + H * 4 * H + H * H + H * V) + B * 2 * D * H;
  return { forward, step: 3 * forward };
}

/** GFLOP/s of an n×n by n×n matmul on this backend (median of `repeats` after a warm-up). */
async function matmulRate(n: number, repeats: number): Promise<number> {
  const a = tf.randomNormal([n, n]);
  const b = tf.randomNormal([n, n]);
  const once = async () => {
    const started = performance.now();
    const c = tf.matMul(a, b);
    await c.data();
    c.dispose();
    return (performance.now() - started) / 1000;
  };
  await once();
  const times: number[] = [];
  for (let i = 0; i < repeats; i++) times.push(await once());
  tf.dispose([a, b]);
  times.sort((x, y) => x - y);
  return (2 * n ** 3) / times[Math.floor(times.length / 2)]! / 1e9;
}

export async function run(args: string[]): Promise<void> {
  const forced = option(args, 'backend') as BackendName | undefined;
  const backend = await initBackend(forced ? { ...process.env, CAPTIONER_BACKEND: forced } : process.env);
  ensureTrainingKernels();
  const slow = backend.name !== 'tensorflow';
  const measured = Number(option(args, 'steps') ?? (slow ? 3 : 20));
  const matmulSize = Number(option(args, 'matmul') ?? (slow ? 1024 : 2048));

  const options: DecoderOptions = {
    variant: 'merge',
    cell: 'lstm',
    layers: 1,
    vocabSize: REFERENCE.vocab,
    embeddingDim: REFERENCE.embeddingDim,
    units: REFERENCE.units,
    dropout: 0.3,
    attentionDim: 256,
    doublyStochasticWeight: 0,
    featureDim: REFERENCE.featureDim,
  };
  const rng = new Rng(1);
  const decoder = new CaptionDecoder(options, rng);
  const features = tf.randomNormal([REFERENCE.batch, REFERENCE.featureDim], 0, 1, 'float32', 3) as tf.Tensor2D;
  const source: FeatureSource = {
    featureDim: REFERENCE.featureDim,
    gridRegions: 0,
    trainable: () => [],
    features: () => ({ pooled: tf.clone(features) }),
    dispose: () => undefined,
  };
  const model = { decoder, source, encoder: null } as unknown as TrainingModel;
  const named = decoder.params.entries().map(([name, variable]) => [`decoder/${name}`, variable] as [string, tf.Variable]);
  const optimizer = new AdamOptimizer(named, { beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: 0 });
  const varToName = new Map(named.map(([name, variable]) => [variable.name, name]));
  const variables = named.map(([, variable]) => variable);

  // Full-length captions of random words (ids ≥ 4: no special tokens), no padding.
  const { batch: B, steps: T } = REFERENCE;
  const tokens = Int32Array.from({ length: B * T }, () => 4 + rng.int(REFERENCE.vocab - 4));
  const host: HostBatch = {
    images: Array.from({ length: B }, (_, i) => i),
    rows: B,
    steps: T,
    inputs: tokens,
    targets: Int32Array.from(tokens, (_, i) => tokens[(i + 1) % tokens.length]!),
    mask: new Float32Array(B * T).fill(1),
    tokens: B * T,
    lengths: new Array<number>(B).fill(T),
  };
  const settings = (step: number) => ({
    learningRate: () => 1e-3,
    samplingProbability: 0,
    labelSmoothing: 0,
    clipNorm: 5,
    dropoutSeed: deriveSeed(1, 'dropout', step),
    samplingSeed: 0,
  });

  for (let warm = 0; warm < 2; warm++) await trainStep(model, optimizer, variables, varToName, host, settings(warm));
  const started = performance.now();
  for (let step = 0; step < measured; step++) await trainStep(model, optimizer, variables, varToName, host, settings(step + 2));
  const seconds = (performance.now() - started) / 1000 / measured;

  const matmul = await matmulRate(matmulSize, slow ? 3 : 5);
  const flops = mergeStepFlops(REFERENCE);
  const achieved = flops.step / seconds / 1e9;
  const line = {
    bench: 'train',
    backend: backend.name,
    device: backend.device,
    config: { variant: 'merge', cell: 'lstm', ...REFERENCE },
    stepsTimed: measured,
    secondsPerStep: round(seconds, 4),
    tokensPerSecond: Math.round((B * T) / seconds),
    gflopPerStep: round(flops.step / 1e9, 3),
    achievedGflops: round(achieved, 2),
    matmulSize,
    matmulGflops: round(matmul, 2),
    fractionOfMatmul: round(achieved / matmul, 3),
    goal: 0.3,
    flopFormula: 'step = 3 * (B*T*2*(E*4H + H*4H + H*H + H*V) + B*2*D*H), matmuls only',
  };
  process.stdout.write(`${JSON.stringify(line)}\n`);
  optimizer.dispose();
  decoder.dispose();
  features.dispose();
}

const round = (value: number, digits: number) => Number(value.toFixed(digits));
