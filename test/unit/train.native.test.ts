/**
 * Reproducibility and exact resume on native TensorFlow (oneDNN, several
 * threads), where float sums could in principle depend on scheduling.
 * Skipped, with the reason printed, where the native backend is not built.
 */
import { describe, expect, it } from 'vitest';
import { initBackend } from '../../src/main/ml/backend';
import type { TrainingEvent, TrainingStep } from '../../src/shared/trainingTypes';
import { tinyConfig, tinyWorkspace, trainTiny } from '../helpers/trainingRun';

let reason = '';
try {
  await initBackend({ CAPTIONER_BACKEND: 'tensorflow' });
} catch (error) {
  reason = (error as Error).message;
  console.warn(`Skipping the native-backend training checks: ${reason}`);
}

const losses = (events: TrainingEvent[]) => (events.filter((e) => e.kind === 'step') as TrainingStep[]).flatMap((e) => e.recent.map(([, loss]) => loss));

describe('training on native TensorFlow', () => {
  it.skipIf(reason !== '')('gives the same loss curve for the same seed, and resumes exactly', async () => {
    const workspace = await tinyWorkspace();
    const config = tinyConfig(workspace.dataset, (c) => {
      c.decoder.dropout = 0.3;
      c.training.scheduledSampling = 0.2;
      c.training.scheduledSamplingRampEpochs = 1;
    });
    const straight = await trainTiny(workspace, config, { maxSteps: 6 });
    const again = await trainTiny(workspace, config, { maxSteps: 6 });
    expect(losses(again.events)).toEqual(losses(straight.events));
    const first = await trainTiny(workspace, config, { maxSteps: 3 });
    const rest = await trainTiny(workspace, config, { maxSteps: 3, resumeFrom: first.result.lastCheckpoint!, runDir: first.runDir });
    expect(losses([...first.events, ...rest.events])).toEqual(losses(straight.events));
  });

  it.skipIf(reason !== '')('steps run as TensorFlow graphs are reproducible, and a resume continues them exactly', async () => {
    const workspace = await tinyWorkspace();
    const config = tinyConfig(workspace.dataset, (c) => {
      c.decoder.dropout = 0.3;
    });
    const logs: string[] = [];
    const straight = await trainTiny(workspace, config, { maxSteps: 8, log: (_, message) => logs.push(message) });
    expect(logs.join('\n')).toMatch(/6 of 8 training steps ran as TensorFlow graphs/);
    const again = await trainTiny(workspace, config, { maxSteps: 8 });
    expect(losses(again.events)).toEqual(losses(straight.events));
    // The resumed call sees its shapes anew: two eager steps, then graphs again.
    const first = await trainTiny(workspace, config, { maxSteps: 4 });
    const rest = await trainTiny(workspace, config, { maxSteps: 4, resumeFrom: first.result.lastCheckpoint!, runDir: first.runDir });
    expect(losses([...first.events, ...rest.events])).toEqual(losses(straight.events));
  });
});
