import { existsSync, mkdtempSync, readdirSync, renameSync, truncateSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  pruneEpochCheckpoints,
  readCheckpoint,
  writeCheckpoint,
  type CheckpointContents,
} from '../../src/main/ml/train/checkpoint';
import { initialEarlyStopping } from '../../src/main/ml/train/earlyStopping';
import { initialPlateauState } from '../../src/main/ml/train/schedule';
import { configFromPreset } from '../../src/shared/runConfig';

function contents(scale = 1): CheckpointContents {
  const config = configFromPreset('shapes-quick', { dataset: { path: '/data/shapes' } });
  return {
    json: {
      backend: 'cpu',
      config,
      decoder: { ...config.decoder, vocabSize: 6, featureDim: 4 },
      encoder: { id: 'scratch-cnn', inputSize: 64, normalization: 'zero-to-one', channels: 16, source: null, featureLayer: null, weightsIncluded: true },
      vocabulary: { format: 'captioner-vocabulary', version: 1, minCount: 1, maxSize: 100, tokens: ['<pad>', '<start>', '<end>', '<unk>', 'a', 'b'], counts: [0, 0, 0, 0, 3, 1] },
      state: {
        epochsCompleted: 2,
        stepInEpoch: 0,
        globalStep: 20,
        epochLossSum: 0,
        epochLossCount: 0,
        batchSize: 32,
        plateau: initialPlateauState(),
        earlyStopping: initialEarlyStopping('val/ciderD'),
        history: [],
        random: { seed: 42, epoch: 2, step: 0 },
        finished: false,
      },
      metrics: { 'val/loss': 1.5 },
    },
    weights: [
      { name: 'decoder/a', shape: [2, 3], data: Float32Array.from([1, 2, 3, 4, 5, 6].map((v) => v * scale)) },
      { name: 'decoder/b', shape: [3], data: Float32Array.from([-1, 0.5, Math.PI]) },
    ],
    optimizer: {
      step: 20,
      m: [{ name: 'decoder/a', shape: [2, 3], data: new Float32Array(6).fill(0.25) }],
      v: [{ name: 'decoder/a', shape: [2, 3], data: new Float32Array(6).fill(0.125) }],
    },
  };
}

describe('checkpoints', () => {
  it('round-trips weights, optimizer state and training state bit for bit', async () => {
    const root = mkdtempSync(join(tmpdir(), 'ckpt-'));
    const path = join(root, 'checkpoints', 'epoch-0002');
    const size = await writeCheckpoint(path, contents());
    expect(size).toBeGreaterThan(9 * 4);
    const loaded = await readCheckpoint(path);
    expect(loaded.weights.map((w) => [w.name, w.shape, Array.from(w.data)])).toEqual(contents().weights.map((w) => [w.name, w.shape, Array.from(w.data)]));
    expect(loaded.optimizer?.step).toBe(20);
    expect(Array.from(loaded.optimizer!.v[0]!.data)).toEqual(new Array(6).fill(0.125));
    expect(loaded.json.state.globalStep).toBe(20);
    expect(loaded.json.config.dataset.path).toBe('/data/shapes');
    expect(readdirSync(join(root, 'checkpoints'))).toEqual(['epoch-0002']);
  });

  it('overwrites atomically and leaves no temporary folders', async () => {
    const root = mkdtempSync(join(tmpdir(), 'ckpt-'));
    const path = join(root, 'best');
    await writeCheckpoint(path, contents(1));
    await writeCheckpoint(path, contents(2));
    expect(readdirSync(root)).toEqual(['best']);
    expect((await readCheckpoint(path)).weights[0]!.data[5]).toBe(12);
  });

  it('falls back to the copy moved aside when an overwrite was interrupted', async () => {
    const root = mkdtempSync(join(tmpdir(), 'ckpt-'));
    const path = join(root, 'best');
    await writeCheckpoint(path, contents(3));
    // What a crash between "move the old one aside" and "rename the new one in" leaves.
    renameSync(path, `${path}.old-123-abcd`);
    const loaded = await readCheckpoint(path);
    expect(loaded.weights[0]!.data[0]).toBe(3);
  });

  it('names the problem with a damaged checkpoint', async () => {
    const root = mkdtempSync(join(tmpdir(), 'ckpt-'));
    const path = join(root, 'epoch-0001');
    await writeCheckpoint(path, contents());
    truncateSync(join(path, 'weights.bin'), 10);
    await expect(readCheckpoint(path)).rejects.toThrow(/weights\.bin/);
    await expect(readCheckpoint(join(root, 'nothing'))).rejects.toThrow(/not a checkpoint/);
  });

  it('prunes all but the newest epoch checkpoints', async () => {
    const root = mkdtempSync(join(tmpdir(), 'ckpt-'));
    for (const name of ['epoch-0001', 'epoch-0002', 'epoch-0003', 'best']) await writeCheckpoint(join(root, name), contents());
    const removed = await pruneEpochCheckpoints(root, 2);
    expect(removed.map((p) => p.slice(root.length + 1))).toEqual(['epoch-0001']);
    expect(existsSync(join(root, 'best'))).toBe(true);
  });
});
