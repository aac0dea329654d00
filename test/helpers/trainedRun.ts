/**
 * A tiny trained run in a fresh data directory: a small Shapes set, one short
 * epoch of a scratch-CNN + merge-LSTM model on the test backend (native where set up), and its
 * checkpoints registered in the store, as training through the API would.
 * Shared by the evaluation and model-package tests.
 */
import { join } from 'node:path';
import { initBackend } from '../../src/main/ml/backend';
import { synthesizeShapes } from '../../src/main/lib/data/shapes/synth';
import { train } from '../../src/main/ml/train/trainer';
import type { JsonObject } from '../../src/shared/storeTypes';
import { runConfigSchema, type RunConfig } from '../../src/shared/runConfig';
import { openWorkbenchStore } from '../../src/main/store/workbenchStore';
import { EventBus } from '../../src/main/core/eventBus';
import { Logger } from '../../src/main/core/logger';
import { tempDir } from './evalFixtures';

export interface TrainedRun {
  dataDir: string;
  datasetDir: string;
  runId: number;
  config: RunConfig;
  bestCheckpoint: string;
}

/**
 * `decoder`: fields that replace the merge LSTM's (e.g. `{ variant: 'attention' }` for a decoder over the 4×4 grid);
 * `decoding`: the decoding the run recommends (its config's section).
 */
export async function trainTinyRun(options: { images?: number; seed?: number; decoder?: Record<string, unknown>; decoding?: Record<string, unknown> } = {}): Promise<TrainedRun> {
  const dataDir = tempDir('captioner-data-');
  const datasetDir = join(dataDir, 'shapes');
  await synthesizeShapes({ out: datasetDir, images: options.images ?? 20, seed: options.seed ?? 4, imageSize: 32 });
  const config = runConfigSchema.parse({
    name: 'tiny',
    dataset: { path: datasetDir },
    encoder: { source: 'scratch-cnn', imageSize: 32, scratchChannels: 4 },
    decoder: { variant: 'merge', cell: 'lstm', layers: 1, embeddingDim: 128, units: 128, dropout: 0.1, ...options.decoder },
    vocab: { minCount: 1, maxCaptionLength: 12 },
    training: { epochs: 1, batchSize: 32, seed: 7 },
    validation: { subsetSize: 4, sampleImages: 1 },
    ...(options.decoding ? { decoding: options.decoding } : {}),
  });
  const backend = await initBackend();
  const logger = new Logger(new EventBus(), () => undefined);
  const store = openWorkbenchStore(dataDir, new EventBus(), logger);
  try {
    const run = await store.runs.create({ name: 'tiny', config: config as unknown as JsonObject, status: 'running' });
    const runDir = await store.runs.directory(run.id);
    const checkpoints: Parameters<typeof store.checkpoints.add>[0][] = [];
    await train({
      config,
      runDir,
      dataDir,
      backend,
      onEvent: (event) => {
        if (event.kind === 'checkpoint') {
          checkpoints.push({ runId: run.id, epoch: event.epoch, step: event.globalStep, path: event.path, metrics: event.metrics, isBest: event.isBest });
        }
      },
    });
    for (const checkpoint of checkpoints) await store.checkpoints.add(checkpoint);
    await store.runs.setStatus(run.id, 'completed');
    const best = checkpoints.filter((checkpoint) => checkpoint.isBest).at(-1);
    if (!best) throw new Error('The tiny run wrote no best checkpoint.');
    return { dataDir, datasetDir, runId: run.id, config, bestCheckpoint: best.path };
  } finally {
    await store.close();
  }
}
