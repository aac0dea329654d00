/**
 * `npm run bench -- train [--rows reference|all|VARIANT/CELL,...] [--steps N] [--rounds R]
 *                          [--keras PYTHON|none] [--profile] [--backend NAME] [--matmul N]`
 *
 * Throughput of one training step of the reference configuration — merge
 * decoder, LSTM, embedding 256, 256 units, vocabulary 5,000, batch 64,
 * captions of 20 steps, frozen 1,280-dim image features (MobileNetV2-sized),
 * dropout 0.3, Adam with global-norm clipping — and, with `--rows all`, the
 * same with a GRU and for the attention decoder (7×7×1,280 grid).
 *
 * Each row is measured in rounds, interleaved, so that the load of a shared
 * machine falls on every contender alike: our step as training runs it on the
 * native backend (fused kernels, the step as one TensorFlow graph: ml/graph/),
 * the same step run eagerly, our step on the reference ops (the same model
 * with the fused kernels off, eager),
 * and, for merge rows, the same model in Keras (bench/peers/keras_train.py)
 * when TensorFlow for Python is installed: `.venv-keras/bin/python` in the
 * checkout, `$KERAS_PYTHON`, or `--keras PYTHON`. See docs/performance.md.
 *
 * FLOPs count matrix multiplications only, 2 per multiply-add, and a training
 * step as 3× the forward pass (see `stepFlops`); elementwise work is not
 * counted, so the achieved rate is a lower bound of the work done. It is
 * reported as a fraction of the backend's own large-matmul rate, measured in
 * the same run.
 */
import * as tf from '@tensorflow/tfjs';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface, type Interface } from 'node:readline';
import { initBackend } from '../src/main/ml/backend';
import { fusedKernelsEnabled, recordRawOps, setFusedKernels, setNativeRandom } from '../src/main/ml/model/fused/nativeOps';
import { CaptionDecoder, type DecoderOptions } from '../src/main/ml/model/decoder';
import type { CellKind } from '../src/main/ml/model/recurrent';
import { deriveSeed, Rng } from '../src/main/ml/model/rng';
import type { HostBatch } from '../src/main/ml/train/batches';
import type { FeatureSource } from '../src/main/ml/train/featureSource';
import type { TrainingModel } from '../src/main/ml/train/modelSetup';
import { AdamOptimizer } from '../src/main/ml/train/optimizer';
import { trainStep } from '../src/main/ml/train/trainer';
import { GraphSteps, graphStepsEnabled } from '../src/main/ml/graph/graphSteps';
import { ensureTrainingKernels } from '../src/main/ml/backend/wasmKernels';
import type { DecoderVariant } from '../src/shared/runConfig';
import type { BackendName } from '../src/shared/types';

const REFERENCE = { batch: 64, steps: 20, embeddingDim: 256, units: 256, vocab: 5000, featureDim: 1280, regions: 49, attentionDim: 256 };
type Reference = typeof REFERENCE;
type Row = { variant: DecoderVariant; cell: CellKind };

function option(args: string[], name: string): string | undefined {
  const index = args.indexOf(`--${name}`);
  return index >= 0 ? args[index + 1] : undefined;
}

/**
 * Model FLOPs of one training step (3× forward). Per word: input projection
 * E·gH, recurrent matmul H·gH, output layer H·V, and
 * - merge: the merge dense H·H; per caption the image projection D·H;
 * - attention: the state's attention projection H·A, scores L·A, context
 *   L·D, gate H, context into the gates D·gH and into the output D·H; per
 *   image the grid projection L·D·A and the initial state D·2H (LSTM) or D·H.
 * g = 4 for LSTM, 3 for GRU.
 */
export function stepFlops(c: Reference, row: Row): { forward: number; step: number } {
  const { batch: B, steps: T, embeddingDim: E, units: H, vocab: V, featureDim: D, regions: L, attentionDim: A } = c;
  const g = row.cell === 'lstm' ? 4 : 3;
  const perWord = E * g * H + H * g * H + H * V;
  const forward =
    row.variant === 'attention'
      ? B * T * 2 * (perWord + H * A + L * A + L * D + H + D * g * H + D * H) + B * 2 * (L * D * A + D * (row.cell === 'lstm' ? 2 : 1) * H)
      : B * T * 2 * (perWord + H * H) + B * 2 * D * H;
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

/** Our training step for one row: the trainer's own `trainStep` on a synthetic batch. */
export function ourStep(row: Row) {
  const c = REFERENCE;
  const options: DecoderOptions = {
    variant: row.variant,
    cell: row.cell,
    layers: 1,
    vocabSize: c.vocab,
    embeddingDim: c.embeddingDim,
    units: c.units,
    dropout: 0.3,
    attentionDim: c.attentionDim,
    doublyStochasticWeight: row.variant === 'attention' ? 1 : 0,
    featureDim: c.featureDim,
  };
  const rng = new Rng(1);
  const decoder = new CaptionDecoder(options, rng);
  const attention = row.variant === 'attention';
  const features = attention
    ? tf.randomNormal([c.batch, c.regions, c.featureDim], 0, 1, 'float32', 3)
    : tf.randomNormal([c.batch, c.featureDim], 0, 1, 'float32', 3);
  const source: FeatureSource = {
    featureDim: c.featureDim,
    gridRegions: attention ? c.regions : 0,
    trainable: () => [],
    features: () => (attention ? { grid: tf.clone(features) as tf.Tensor3D } : { pooled: tf.clone(features) as tf.Tensor2D }),
    dispose: () => undefined,
  };
  const model = { decoder, source, encoder: null } as unknown as TrainingModel;
  const named = decoder.params.entries().map(([name, variable]) => [`decoder/${name}`, variable] as [string, tf.Variable]);
  const optimizer = new AdamOptimizer(named, { beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: 0 });
  const varToName = new Map(named.map(([name, variable]) => [variable.name, name]));
  const variables = named.map(([, variable]) => variable);
  // Full-length captions of random words (ids ≥ 4: no special tokens), no padding.
  const { batch: B, steps: T } = c;
  const tokens = Int32Array.from({ length: B * T }, () => 4 + rng.int(c.vocab - 4));
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
  let stepIndex = 0;
  const settings = () => ({
    learningRate: () => 1e-3,
    samplingProbability: 0,
    labelSmoothing: 0,
    clipNorm: 5,
    dropoutSeed: deriveSeed(1, 'dropout', stepIndex++),
    samplingSeed: 0,
  });
  const graphs = new GraphSteps((level, message) => console.error(`[graph ${level}] ${message}`));
  return {
    graphs,
    /** Seconds for `count` steps (the last one's loss read back, so all have finished); `graph`: as TensorFlow graphs. */
    async run(count: number, graph = false): Promise<number> {
      const started = performance.now();
      for (let i = 0; i < count; i++) await trainStep(model, optimizer, variables, varToName, host, settings(), graph ? graphs : null);
      return (performance.now() - started) / 1000;
    },
    dispose() {
      graphs.dispose();
      optimizer.dispose();
      decoder.dispose();
      features.dispose();
    },
  };
}

/** The Keras peer as a child process answering `run N` with the seconds N steps took. */
class KerasPeer {
  /** Versions and settings the peer reported when it was ready. */
  info: Record<string, unknown> = {};
  private readonly lines: Interface;
  private stderr = '';

  private constructor(private readonly child: ChildProcessWithoutNullStreams) {
    this.lines = createInterface({ input: child.stdout });
    child.stderr.on('data', (chunk: Buffer) => (this.stderr = (this.stderr + chunk.toString()).slice(-2000)));
  }

  static async start(python: string, cell: CellKind): Promise<KerasPeer> {
    const script = join(__dirname, 'peers', 'keras_train.py');
    const peer = new KerasPeer(spawn(python, [script, '--serve', '--cell', cell], { stdio: ['pipe', 'pipe', 'pipe'] }));
    peer.info = await peer.next(() => `the Keras peer (${python} ${script}) exited before it was ready: ${peer.stderr.trim()}`);
    return peer;
  }

  /** The next JSON line the peer prints. */
  private next(failure: () => string): Promise<Record<string, unknown>> {
    return new Promise((resolve, reject) => {
      const onLine = (line: string) => {
        if (!line.startsWith('{')) return;
        cleanup();
        resolve(JSON.parse(line) as Record<string, unknown>);
      };
      const onExit = () => {
        cleanup();
        reject(new Error(failure()));
      };
      const cleanup = () => {
        this.lines.off('line', onLine);
        this.child.off('exit', onExit);
      };
      this.lines.on('line', onLine);
      this.child.on('exit', onExit);
    });
  }

  async run(count: number): Promise<number> {
    const answer = this.next(() => `the Keras peer exited while timing steps: ${this.stderr.trim()}`);
    this.child.stdin.write(`run ${count}\n`);
    return Number((await answer).seconds);
  }

  stop(): void {
    this.child.stdin.end('quit\n');
  }
}

function kerasPython(args: string[]): string | null {
  const chosen = option(args, 'keras') ?? process.env.KERAS_PYTHON;
  if (chosen === 'none') return null;
  if (chosen) return chosen;
  const local = join(__dirname, '..', '.venv-keras', 'bin', 'python');
  return existsSync(local) ? local : null;
}

function parseRows(value: string): Row[] {
  if (value === 'reference') return [{ variant: 'merge', cell: 'lstm' }];
  if (value === 'all') {
    return [
      { variant: 'merge', cell: 'lstm' },
      { variant: 'merge', cell: 'gru' },
      { variant: 'attention', cell: 'lstm' },
      { variant: 'attention', cell: 'gru' },
    ];
  }
  return value.split(',').map((entry) => {
    const [variant, cell] = entry.split('/');
    if (!['merge', 'init-inject', 'attention'].includes(variant ?? '') || !['lstm', 'gru'].includes(cell ?? '')) {
      throw new Error(`--rows: "${entry}" is not VARIANT/CELL (merge|init-inject|attention / lstm|gru).`);
    }
    return { variant: variant as DecoderVariant, cell: cell as CellKind };
  });
}

export async function run(args: string[]): Promise<void> {
  const forced = option(args, 'backend') as BackendName | undefined;
  const backend = await initBackend(forced ? { ...process.env, CAPTIONER_BACKEND: forced } : process.env);
  ensureTrainingKernels();
  const slow = backend.name !== 'tensorflow';
  const native = fusedKernelsEnabled();
  const measured = Number(option(args, 'steps') ?? (slow ? 3 : 20));
  const rounds = Math.max(1, Math.min(measured, Number(option(args, 'rounds') ?? (slow ? 1 : 4))));
  const matmulSize = Number(option(args, 'matmul') ?? (slow ? 1024 : 2048));
  const rows = parseRows(option(args, 'rows') ?? 'reference');
  const python = slow ? null : kerasPython(args);
  const tokens = REFERENCE.batch * REFERENCE.steps;

  const matmul = await matmulRate(matmulSize, slow ? 3 : 5);
  for (const row of rows) {
    const ours = ourStep(row);
    let keras: KerasPeer | null = null;
    let kerasNote: string | null = python ? null : 'TensorFlow for Python not found (see docs/performance.md)';
    if (python && row.variant === 'merge') {
      try {
        keras = await KerasPeer.start(python, row.cell);
      } catch (error) {
        kerasNote = (error as Error).message;
      }
    } else if (python) {
      kerasNote = 'no Keras peer for this variant';
    }
    // The reference path: tfjs ops and dropout masks drawn in JavaScript, as on the JS backends.
    const useReference = (on: boolean) => {
      setFusedKernels(on ? false : null);
      setNativeRandom(on ? false : null);
    };
    // Warm-up: two steps each (the first traces kernels, allocates, JIT-compiles).
    if (native) {
      useReference(true);
      await ours.run(2);
      useReference(false);
    }
    await ours.run(2);
    // Graph steps: the first two steps of a shape run eagerly (the second is traced), then the graph is built.
    const graphs = graphStepsEnabled();
    if (graphs) await ours.run(3, true);
    const seconds = { graph: 0, fused: 0, reference: 0, keras: 0 };
    const counts = { graph: 0, fused: 0, reference: 0, keras: 0 };
    for (let round = 0; round < rounds; round++) {
      const count = Math.floor(measured / rounds) + (round < measured % rounds ? 1 : 0);
      if (graphs) {
        seconds.graph += await ours.run(count, true);
        counts.graph += count;
      }
      seconds.fused += await ours.run(count);
      counts.fused += count;
      if (native) {
        useReference(true);
        seconds.reference += await ours.run(count);
        counts.reference += count;
        useReference(false);
      }
      if (keras) {
        seconds.keras += await keras.run(count);
        counts.keras += count;
      }
    }
    keras?.stop();
    if (args.includes('--profile')) await profile(ours, row);
    ours.dispose();

    // The headline is what training uses: graph steps where they run, else eager steps.
    const graphSteps = ours.graphs.stats.replays > 0 && counts.graph > 0;
    const perStep = graphSteps ? seconds.graph / counts.graph : seconds.fused / counts.fused;
    const flops = stepFlops(REFERENCE, row);
    const achieved = flops.step / perStep / 1e9;
    const line: Record<string, unknown> = {
      bench: 'train',
      backend: backend.name,
      device: backend.device,
      config: { variant: row.variant, cell: row.cell, ...configOf(row) },
      path: graphSteps ? 'graph' : native ? 'fused' : 'reference',
      stepsTimed: graphSteps ? counts.graph : counts.fused,
      rounds,
      secondsPerStep: round(perStep, 4),
      tokensPerSecond: Math.round(tokens / perStep),
      gflopPerStep: round(flops.step / 1e9, 3),
      achievedGflops: round(achieved, 2),
      matmulSize,
      matmulGflops: round(matmul, 2),
      fractionOfMatmul: round(achieved / matmul, 3),
    };
    if (graphSteps) {
      const eagerTokens = tokens / (seconds.fused / counts.fused);
      line.eagerTokensPerSecond = Math.round(eagerTokens);
      line.graphOverEager = round(tokens / perStep / eagerTokens, 2);
      line.graphOps = ours.graphs.stats.graphOps;
    }
    if (counts.reference > 0) {
      const referenceTokens = tokens / (seconds.reference / counts.reference);
      line.referenceOpsTokensPerSecond = Math.round(referenceTokens);
      line.speedupOverReferenceOps = round(tokens / perStep / referenceTokens, 2);
    }
    if (counts.keras > 0 && keras) {
      const kerasTokens = tokens / (seconds.keras / counts.keras);
      line.kerasTokensPerSecond = Math.round(kerasTokens);
      line.ratioToKeras = round(tokens / perStep / kerasTokens, 2);
      line.keras = keras.info;
    } else if (kerasNote) {
      line.keras = kerasNote;
    }
    process.stdout.write(`${JSON.stringify(line)}\n`);
  }
}

/**
 * Per-op time of a few steps on the fused path: tfjs kernels (from
 * `tf.profile`; the synchronous native kernels make their wall time the
 * op's time) and the raw TensorFlow ops the fused paths run by name. One
 * JSON line per op name, largest first.
 */
async function profile(ours: ReturnType<typeof ourStep>, row: Row): Promise<void> {
  const steps = 3;
  const totals = new Map<string, { ms: number; calls: number }>();
  const add = (name: string, ms: number) => {
    const entry = totals.get(name) ?? { ms: 0, calls: 0 };
    entry.ms += ms;
    entry.calls += 1;
    totals.set(name, entry);
  };
  let wall = 0;
  recordRawOps((name, ms) => add(`raw:${name}`, ms));
  const info = await tf.profile(async () => {
    wall = await ours.run(steps);
  });
  recordRawOps(null);
  for (const kernel of info.kernels) {
    // Wrappers (custom gradients, composite ops) contain kernels that are counted on their own.
    if (kernel.name === 'forward' || kernel.name.endsWith('__op')) continue;
    add(kernel.name, Number(kernel.kernelTimeMs));
  }
  const opMs = [...totals.values()].reduce((sum, entry) => sum + entry.ms, 0);
  process.stdout.write(
    `${JSON.stringify({ bench: 'train-profile', row: `${row.variant}/${row.cell}`, steps, msPerStep: round((wall * 1000) / steps, 1), opMsPerStep: round(opMs / steps, 1), opsPerStep: Math.round([...totals.values()].reduce((s, e) => s + e.calls, 0) / steps) })}\n`,
  );
  for (const [name, entry] of [...totals].sort((a, b) => b[1].ms - a[1].ms).slice(0, 20)) {
    process.stdout.write(`${JSON.stringify({ bench: 'train-profile', row: `${row.variant}/${row.cell}`, op: name, msPerStep: round(entry.ms / steps, 2), callsPerStep: round(entry.calls / steps, 1) })}\n`);
  }
}

/** The configuration a row uses (the grid and attention sizes only for attention). */
function configOf(row: Row): Partial<Reference> {
  const { regions, attentionDim, ...shared } = REFERENCE;
  return row.variant === 'attention' ? { ...shared, regions, attentionDim } : shared;
}

const round = (value: number, digits: number) => Number(value.toFixed(digits));
