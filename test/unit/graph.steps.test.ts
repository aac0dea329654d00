/**
 * Training steps run as TensorFlow graphs (src/main/ml/graph/): the same
 * losses and weights as eager steps, reproducible and exactly resumable,
 * flat in tensors, and eager where a step cannot be a graph. Native backend
 * only; skipped, with the reason printed, where it is not built.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/main/ml/backend';
import { setGraphSteps } from '../../src/main/ml/graph/graphSteps';
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
