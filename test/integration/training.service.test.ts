/**
 * Training end to end through the API: the main process creates the run,
 * a real engine process trains it, and the store ends up holding its
 * metrics, sample captions and checkpoints. Stop and resume go through the
 * same calls the UI and the CLI make.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dispatch } from '../../src/main/api/handlers';
import { forkSpawner } from '../../src/main/engine/forkChannel';
import { createWorkbench, type Workbench } from '../../src/main/workbench';
import type { MethodName, RequestOf, ResponseOf } from '../../src/shared/contract';
import type { TrainingStepEvent } from '../../src/shared/trainingTypes';
import { writeTinyDataset } from '../helpers/tinyDataset';

let workbench: Workbench;
let dataset: string;

async function call<M extends MethodName>(method: M, request: RequestOf<M>): Promise<ResponseOf<M>> {
  const envelope = await dispatch(workbench.handlers, method, request, { transport: 'cli' });
  if (!envelope.ok) throw new Error(`${method}: ${envelope.error.message}`);
  return envelope.value as ResponseOf<M>;
}

/** The smallest configuration the product's ranges allow, on the tiny dataset. */
const config = (epochs: number) => ({
  dataset: { path: dataset },
  encoder: { imageSize: 16, scratchChannels: 4 },
  decoder: { embeddingDim: 128, units: 128, dropout: 0.1 },
  training: { epochs, batchSize: 16, earlyStoppingPatience: 0 },
  validation: { subsetSize: 4, sampleImages: 2 },
  optimizer: { learningRate: 0.003 },
});

beforeAll(async () => {
  const root = mkdtempSync(join(tmpdir(), 'captioner-service-'));
  dataset = await writeTinyDataset(join(root, 'data'));
  workbench = createWorkbench({ dataDir: join(root, 'workbench'), spawnEngine: forkSpawner({ ...process.env, CAPTIONER_BACKEND: 'wasm' }), echoLogs: false });
});
afterAll(async () => workbench?.close());

describe('training through the API', () => {
  it('trains a run and stores its metrics, samples and checkpoints', async () => {
    const epochs: number[] = [];
    const started: Array<{ backend: string; warnings: string[] }> = [];
    const detach = workbench.services.bus.attach((event, payload) => {
      if (event === 'training.epoch') epochs.push((payload as { epoch: number }).epoch);
      if (event === 'training.started') started.push(payload as { backend: string; warnings: string[] });
    });
    const { runId } = await call('training.start', { config: config(2), tags: ['test'] });
    const finished = await workbench.services.training.finished(runId);
    detach();
    expect(finished).toMatchObject({ runId, status: 'completed', outcome: 'completed', epochsCompleted: 2 });
    expect(epochs).toEqual([1, 2]);
    expect(started).toHaveLength(1);
    expect(started[0]!.backend).toBe('wasm');
    expect(started[0]!.warnings.join()).toMatch(/WebAssembly/);
    const store = workbench.services.store;
    const run = await store.runs.get(runId);
    expect(run?.status).toBe('completed');
    expect(run?.backend).toBe('wasm');
    const keys = await store.metrics.keys(runId);
    expect(keys).toEqual(expect.arrayContaining(['train/loss', 'train/learningRate', 'val/loss', 'val/bleu4', 'val/ciderD', 'epoch/trainLoss']));
    const losses = await store.metrics.series(runId, 'train/loss');
    expect(losses.points.map((p) => p.step)).toEqual([1, 2, 3, 4]);
    expect(await store.samples.epochs(runId)).toEqual([1, 2]);
    const checkpoints = await store.checkpoints.list(runId);
    expect(checkpoints.some((c) => c.isBest)).toBe(true);
    expect(checkpoints.map((c) => c.path.split('/').pop())).toEqual(expect.arrayContaining(['epoch-0001', 'epoch-0002', 'best']));
  });

  it('stops after a step with a checkpoint, and resumes to the end', async () => {
    const { runId } = await call('training.start', { config: config(3) });
    let asked = false;
    const detach = workbench.services.bus.attach((event, payload) => {
      if (event === 'training.step' && (payload as TrainingStepEvent).runId === runId && !asked) {
        asked = true;
        void call('training.stop', { runId });
      }
    });
    const stopped = await workbench.services.training.finished(runId);
    detach();
    expect(stopped.status).toBe('stopped');
    expect(stopped.checkpoint).toMatch(/step-\d+$/);
    expect((await workbench.services.store.runs.get(runId))?.status).toBe('stopped');

    await call('training.resume', { runId });
    const done = await workbench.services.training.finished(runId);
    expect(done).toMatchObject({ status: 'completed', epochsCompleted: 3, globalStep: 6 });
    const losses = await workbench.services.store.metrics.series(runId, 'train/loss');
    expect(losses.points.map((p) => p.step)).toEqual([1, 2, 3, 4, 5, 6]);
    // The stop checkpoint was superseded by the epoch checkpoints and removed.
    const names = (await workbench.services.store.checkpoints.list(runId)).map((c) => c.path.split('/').pop());
    expect(names.some((name) => name?.startsWith('step-'))).toBe(false);
    await expect(call('training.resume', { runId })).rejects.toThrow(/completed/);
  });

  it('answers presets, the config schema and an estimate', async () => {
    const presets = await call('training.presets', {});
    expect(presets.map((p) => p.id)).toEqual(['shapes-quick', 'shapes-grounded', 'flickr8k-like']);
    const schema = await call('training.configSchema', {});
    expect(schema.searchSpace.find((d) => d.path === 'optimizer.learningRate')).toBeDefined();
    const estimate = await call('training.estimate', { config: config(1), steps: 3 });
    expect(estimate.secondsPerStep).toBeGreaterThan(0);
    expect(estimate.stepsPerEpoch).toBe(2);
    expect(estimate.backend).toBe('wasm');
    await expect(call('training.start', { config: { ...config(1), decoder: { units: 4 } } })).rejects.toThrow(/config\.decoder\.units/);
  });
});
