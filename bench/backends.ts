/**
 * `npm run bench -- backends [--only tensorflow,wasm,cpu] [--timeout-s 900]`
 *
 * One JSON line per available tfjs backend: float32 1024x1024 matmul GFLOP/s
 * and the time of one training step of a reference LSTM caption decoder.
 * Each backend runs in a child process of its own, selected through the app's
 * backend selector (CAPTIONER_BACKEND), because a process can hold only one
 * native TensorFlow and a backend's kernels and memory would otherwise mix.
 */
import * as tf from '@tensorflow/tfjs';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import type { BackendInfo, BackendName } from '../src/shared/types';

const BACKENDS: BackendName[] = ['tensorflow', 'wasm', 'cpu'];

/** The reference decoder step: the shapes of a small Show-and-Tell decoder. */
const MODEL = { batch: 64, steps: 16, vocab: 5000, embedding: 256, units: 256 } as const;
const MATMUL_SIZE = 1024;

function now(): number {
  return performance.now();
}

/** GFLOP/s of an n x n by n x n float32 matmul: warm-up, then enough runs for about two seconds. */
async function matmulGflops(): Promise<{ gflops: number; msPerMatmul: number; runs: number }> {
  const n = MATMUL_SIZE;
  const a = tf.randomNormal([n, n], 0, 1, 'float32');
  const b = tf.randomNormal([n, n], 0, 1, 'float32');
  await Promise.all([a.data(), b.data()]);
  const timeRuns = async (runs: number): Promise<number> => {
    const start = now();
    let last: tf.Tensor | null = null;
    for (let i = 0; i < runs; i++) {
      last?.dispose();
      last = tf.matMul(a, b);
    }
    // Reading the last result waits for all of them (backends run ops in order).
    await last?.data();
    last?.dispose();
    return now() - start;
  };
  await timeRuns(2);
  const single = await timeRuns(1);
  const runs = Math.max(3, Math.min(200, Math.round(2000 / Math.max(single, 1))));
  const ms = await timeRuns(runs);
  tf.dispose([a, b]);
  const msPerMatmul = ms / runs;
  return { gflops: (2 * n ** 3) / (msPerMatmul * 1e6), msPerMatmul, runs };
}

/**
 * Embedding lookup whose gradient is a scatter-add. tfjs's own gather
 * gradient uses UnsortedSegmentSum, which the wasm backend lacks and the pure
 * JS backend computes with one pass over the data per vocabulary entry; a
 * scatter keeps the step comparable on every backend.
 */
const embed = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
  const [table, ids, save] = args as [tf.Tensor2D, tf.Tensor1D, tf.GradSaveFunc];
  save([ids]);
  return {
    value: tf.gather(table, ids),
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [savedIds] = saved as [tf.Tensor1D];
      const shape = table.shape;
      return [tf.scatterND(savedIds.reshape([-1, 1]), dy, shape), tf.zerosLike(savedIds)];
    },
  };
});

interface Decoder {
  variables: tf.Variable[];
  loss(): tf.Scalar;
}

/** A single-layer LSTM decoder over teacher-forced tokens, with one fused gates matmul per step. */
function referenceDecoder(): Decoder {
  const { batch, steps, vocab, embedding, units } = MODEL;
  const init = (shape: number[]): tf.Variable => tf.variable(tf.randomUniform(shape, -0.05, 0.05));
  const table = init([vocab, embedding]);
  const inputKernel = init([embedding, 4 * units]);
  const recurrentKernel = init([units, 4 * units]);
  const bias = tf.variable(tf.zeros([4 * units]));
  const outputKernel = init([units, vocab]);
  const outputBias = tf.variable(tf.zeros([vocab]));
  const tokens = tf.randomUniform([batch * steps], 0, vocab, 'int32') as tf.Tensor1D;
  const targets = tf.oneHot(tf.randomUniform([batch * steps], 0, vocab, 'int32') as tf.Tensor1D, vocab);

  const loss = (): tf.Scalar => {
    const embedded = embed(table, tokens) as tf.Tensor2D;
    // Input projection for all steps at once: [batch, steps, 4 * units].
    const projected = tf.add(tf.matMul(embedded, inputKernel), bias).reshape([batch, steps, 4 * units]);
    let h: tf.Tensor2D = tf.zeros([batch, units]);
    let c: tf.Tensor2D = tf.zeros([batch, units]);
    const outputs: tf.Tensor2D[] = [];
    for (let t = 0; t < steps; t++) {
      const x = projected.slice([0, t, 0], [batch, 1, 4 * units]).reshape([batch, 4 * units]);
      const gates = tf.add(x, tf.matMul(h, recurrentKernel));
      const [i, f, g, o] = tf.split(gates, 4, 1) as [tf.Tensor2D, tf.Tensor2D, tf.Tensor2D, tf.Tensor2D];
      c = tf.add(tf.mul(tf.sigmoid(f), c), tf.mul(tf.sigmoid(i), tf.tanh(g)));
      h = tf.mul(tf.sigmoid(o), tf.tanh(c));
      outputs.push(h);
    }
    const hidden = tf.stack(outputs, 1).reshape([batch * steps, units]);
    const logits = tf.add(tf.matMul(hidden, outputKernel), outputBias);
    return tf.losses.softmaxCrossEntropy(targets, logits) as tf.Scalar;
  };
  return { variables: [table, inputKernel, recurrentKernel, bias, outputKernel, outputBias], loss };
}

/** Milliseconds per Adam step: one warm-up step (creates the moments), then steps for about five seconds. */
async function decoderStepMs(): Promise<{ msPerStep: number; steps: number; loss: number }> {
  const decoder = referenceDecoder();
  const optimizer = tf.train.adam(1e-3);
  const step = async (): Promise<number> => {
    const loss = tf.tidy(() => {
      const value = optimizer.minimize(decoder.loss, true, decoder.variables);
      if (!value) throw new Error('minimize returned no loss');
      return value;
    });
    const value = (await loss.data())[0] ?? NaN;
    loss.dispose();
    return value;
  };
  await step();
  const start = now();
  let steps = 0;
  let loss = NaN;
  do {
    loss = await step();
    steps++;
  } while (steps < 10 && now() - start < 5000);
  return { msPerStep: (now() - start) / steps, steps, loss };
}

function round(value: number, digits = 1): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}

/** Child mode: select `name` through the app's selector, measure, print partial results as they come. */
async function measure(name: BackendName): Promise<void> {
  const { initBackend } = await import('../src/main/ml/backend');
  const info: BackendInfo = await initBackend({ ...process.env, CAPTIONER_BACKEND: name });
  const print = (fields: object): void => void process.stdout.write(`${JSON.stringify(fields)}\n`);
  print({ backend: info.name, device: info.device, tensorflowVersion: info.tensorflowVersion });
  const matmul = await matmulGflops();
  print({ matmulGflops: round(matmul.gflops, 2), matmulMs: round(matmul.msPerMatmul, 2), matmulRuns: matmul.runs });
  const step = await decoderStepMs();
  print({ stepMs: round(step.msPerStep), stepRuns: step.steps, stepLoss: round(step.loss, 4) });
}

interface ChildResult {
  fields: Record<string, unknown>;
  error: string | null;
}

function runChild(name: BackendName, timeoutMs: number): Promise<ChildResult> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [...process.execArgv, join(__dirname, 'run.ts'), 'backends', '--child', name], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, CAPTIONER_BACKEND: name },
    });
    const fields: Record<string, unknown> = {};
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      const lines = stdout.split('\n');
      stdout = lines.pop() ?? '';
      for (const line of lines) if (line.startsWith('{')) Object.assign(fields, JSON.parse(line) as object);
    });
    child.stderr.on('data', (chunk: Buffer) => void (stderr += chunk.toString()));
    child.on('close', (code) => {
      clearTimeout(timer);
      const lastError = stderr.trim().split('\n').filter((l) => /Error|error:/.test(l)).pop();
      const error = timedOut ? `did not finish within ${timeoutMs / 1000} s` : code === 0 ? null : (lastError ?? `exited with ${code}`);
      resolve({ fields, error });
    });
  });
}

function parseArgs(args: string[]): { child: BackendName | null; only: BackendName[]; timeoutMs: number } {
  const value = (flag: string): string | undefined => {
    const at = args.indexOf(flag);
    return at >= 0 ? args[at + 1] : undefined;
  };
  const pick = (text: string): BackendName => {
    if (!(BACKENDS as string[]).includes(text)) throw new Error(`unknown backend "${text}" (expected ${BACKENDS.join(', ')})`);
    return text as BackendName;
  };
  const child = value('--child');
  const only = value('--only');
  return {
    child: child ? pick(child) : null,
    only: only ? only.split(',').map(pick) : BACKENDS,
    timeoutMs: Number(value('--timeout-s') ?? 900) * 1000,
  };
}

export async function run(args: string[]): Promise<void> {
  const options = parseArgs(args);
  if (options.child) return measure(options.child);
  for (const name of options.only) {
    const { fields, error } = await runChild(name, options.timeoutMs);
    // The selector falls back silently only when not forced; a forced backend that cannot start is unavailable here.
    if (error && !('matmulGflops' in fields)) {
      process.stderr.write(`backends: ${name} is not available here: ${error}\n`);
      continue;
    }
    const line = {
      bench: 'backends',
      ...fields,
      matmulSize: MATMUL_SIZE,
      model: MODEL,
      ...(error ? { error } : {}),
    };
    process.stdout.write(`${JSON.stringify(line)}\n`);
  }
}
