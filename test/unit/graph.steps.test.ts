/**
 * Training steps run as TensorFlow graphs (src/main/ml/graph/): the same
 * losses and weights as eager steps, reproducible and exactly resumable,
 * flat in tensors, and eager where a step cannot be a graph. Native backend
 * only; skipped, with the reason printed, where it is not built.
 */
import * as tf from '@tensorflow/tfjs';
import { afterEach, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/main/ml/backend';
import { GraphSteps, setGraphSteps } from '../../src/main/ml/graph/graphSteps';
import type { RunConfig } from '../../src/shared/runConfig';
import type { TrainingEvent, TrainingStep } from '../../src/shared/trainingTypes';
import { tinyConfig, tinyWorkspace, trainTiny } from '../helpers/trainingRun';

let reason = '';
try {
  await initBackend({ CAPTIONER_BACKEND: 'tensorflow' });
} catch (error) {
  reason = (error as Error).message;
  console.warn(`Skipping the graph-step checks: ${reason}`);
}

afterEach(() => setGraphSteps(null));

const losses = (events: TrainingEvent[]) => (events.filter((e) => e.kind === 'step') as TrainingStep[]).flatMap((e) => e.recent.map(([, loss]) => loss));

describe.skipIf(reason !== '')('training steps as TensorFlow graphs', () => {
  for (const [name, change] of [
    ['merge LSTM', (c: RunConfig) => void c] as const,
    ['attention GRU with a CNN encoder', (c: RunConfig) => {
      c.decoder.variant = 'attention';
      c.decoder.cell = 'gru';
    }] as const,
  ]) {
    it(`${name}: the same losses as eager steps, to 1e-5`, async () => {
      const workspace = await tinyWorkspace();
      const config = tinyConfig(workspace.dataset, (c) => {
        c.decoder.dropout = 0.3;
        change(c);
      });
      setGraphSteps(false);
      const eager = losses((await trainTiny(workspace, config, { maxSteps: 8 })).events);
      setGraphSteps(true);
      const logs: string[] = [];
      const graph = losses((await trainTiny(workspace, config, { maxSteps: 8, log: (_, message) => logs.push(message) })).events);
      expect(graph).toHaveLength(8);
      graph.forEach((loss, step) => expect(Math.abs(loss - eager[step]!), `step ${step + 1}`).toBeLessThan(1e-5 * Math.max(1, Math.abs(eager[step]!))));
      expect(logs.some((message) => /^6 of 8 training steps ran as TensorFlow graphs/.test(message)), logs.join('\n')).toBe(true);
    });
  }
});

/** Handles the native binding holds (tfjs' own count does not see handles a session made and nobody took). */
const nativeHandles = () => (tf.backend() as unknown as { binding: { getNumOfTensors(): number } }).binding.getNumOfTensors();

describe.skipIf(reason !== '')('GraphSteps', () => {
  /** w ← w − rate·(x·w + 1) with x and rate fed each call; returns the new w's sum. */
  function makeStep(w: tf.Variable) {
    return (x: number[], rate: number, extra = false) => () =>
      tf.tidy(() => {
        let y = tf.add(tf.mul(tf.tensor1d(x), w), 1);
        if (extra) y = tf.neg(tf.neg(y));
        w.assign(tf.sub(w, tf.mul(y, rate)));
        return tf.sum(w);
      });
  }

  it('feeds every value anew: a replay follows changed inputs exactly as eager steps do', () => {
    const run = (graphs: GraphSteps | null) => {
      const w = tf.variable(tf.tensor1d([1, 2, 3]));
      const step = makeStep(w);
      const sums: number[] = [];
      for (let i = 0; i < 6; i++) {
        const body = step([i, -i, 2 * i], 0.1 * (i + 1));
        const sum = graphs ? graphs.run('s', body) : body();
        sums.push(sum.dataSync()[0]!);
        sum.dispose();
      }
      w.dispose();
      return sums;
    };
    const graphs = new GraphSteps();
    const graph = run(graphs);
    expect(graphs.stats.replays).toBe(4);
    graphs.dispose();
    expect(graph).toEqual(run(null));
  });

  it('keeps tfjs tensors and native handles flat over replays', () => {
    const w = tf.variable(tf.tensor1d([1, 2, 3]));
    const step = makeStep(w);
    const graphs = new GraphSteps();
    const counts: Array<[number, number]> = [];
    for (let i = 0; i < 10; i++) {
      graphs.run('s', step([1, 2, 3], 0.01)).dispose();
      if (i >= 3) counts.push([tf.memory().numTensors, nativeHandles()]);
    }
    expect(graphs.stats.replays).toBe(8);
    expect(new Set(counts.map((count) => count.join('/'))).size).toBe(1);
    graphs.dispose();
    w.dispose();
  });

  it('leaves a step eager when it reads a value back mid-way', () => {
    const w = tf.variable(tf.tensor1d([1, 2]));
    const logs: string[] = [];
    const graphs = new GraphSteps((_, message) => logs.push(message));
    for (let i = 0; i < 4; i++) {
      graphs.run('s', () => {
        const scale = tf.tidy(() => tf.sum(w)).dataSync()[0]!;
        tf.tidy(() => w.assign(tf.mul(w, scale > 100 ? 0.5 : 1.5)));
      });
    }
    expect(graphs.stats.replays).toBe(0);
    expect(logs.join('\n')).toMatch(/reads a value back/);
    expect([...w.dataSync()]).toEqual([1 * 1.5 ** 4, 2 * 1.5 ** 4].map((v) => Math.fround(v)));
    graphs.dispose();
    w.dispose();
  });

  it('reruns eagerly a replay that leaves its trace before any weight changed, and stays eager', () => {
    const w = tf.variable(tf.tensor1d([1, 2, 3]));
    const reference = tf.variable(tf.tensor1d([1, 2, 3]));
    const logs: string[] = [];
    const graphs = new GraphSteps((_, message) => logs.push(message));
    for (let i = 0; i < 6; i++) {
      const body = (v: tf.Variable) => makeStep(v)([1, 1, 1], 0.1, i >= 3);
      graphs.run('s', body(w)).dispose();
      body(reference)().dispose();
    }
    expect(logs.join('\n')).toMatch(/no longer matches its graph: op \d+ \(Neg\).*run eagerly from now on/);
    expect(graphs.stats.replays).toBe(1);
    expect([...w.dataSync()]).toEqual([...reference.dataSync()]);
    graphs.dispose();
    tf.dispose([w, reference]);
  });

  it('fails a replay that leaves its trace after a weight changed, naming the op', () => {
    const w = tf.variable(tf.tensor1d([1, 2, 3]));
    const graphs = new GraphSteps();
    const body = (extra: boolean) => () =>
      tf.tidy(() => {
        w.assign(tf.add(w, 1));
        if (extra) tf.neg(w);
      });
    for (let i = 0; i < 3; i++) graphs.run('s', body(false));
    expect(() => graphs.run('s', body(true))).toThrow(/op 1 \(Neg\) is one op more than the graph has.*Weights had already changed/);
    graphs.dispose();
    w.dispose();
  });

  it('keeps gather range errors, now raised by TensorFlow', () => {
    const table = tf.tensor2d([[1], [2]]);
    expect(() => tf.tidy(() => tf.gather(table, tf.tensor1d([0, 5], 'int32')).dataSync())).toThrow(/5 is not in \[0, 2\)/);
    table.dispose();
  });
});
