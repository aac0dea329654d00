/**
 * `explain.caption` through the real engine process (pure-JS backend), as
 * the gallery and a caption playground call it: on a trained checkpoint and
 * on the model package exported from it, the chosen caption is the one
 * evaluation-style captioning gives; a merge model says it has no attention;
 * a missing image or checkpoint is a clear error.
 */
import { join } from 'node:path';
import { readdirSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { forkSpawner } from '../../src/main/engine/forkChannel';
import { EngineSupervisor } from '../../src/main/engine/supervisor';
import { tempDir } from '../helpers/evalFixtures';
import { trainTinyRun, type TrainedRun } from '../helpers/trainedRun';

let run: TrainedRun;
let image: string;
const previousBackend = process.env.CAPTIONER_BACKEND;
const supervisor = new EngineSupervisor(forkSpawner({ ...process.env, CAPTIONER_BACKEND: 'cpu' }));

beforeAll(async () => {
  process.env.CAPTIONER_BACKEND = 'cpu';
  run = await trainTinyRun({ images: 12, seed: 6 });
  const dir = join(run.datasetDir, 'Images');
  image = join(dir, readdirSync(dir).sort()[0]!);
}, 240_000);

afterAll(async () => {
  await supervisor.stop();
  if (previousBackend === undefined) delete process.env.CAPTIONER_BACKEND;
  else process.env.CAPTIONER_BACKEND = previousBackend;
});

describe('explain.caption in the engine process', () => {
  it('explains a checkpoint and its exported package alike; a merge model has no attention', async () => {
    const decoding = { strategy: 'beam' as const, beamWidth: 3 };
    const fromCheckpoint = await supervisor.call('explain.caption', {
      model: { kind: 'checkpoint', path: run.bestCheckpoint },
      image,
      decoding,
      alternatives: 3,
      dataDir: run.dataDir,
    });
    expect(fromCheckpoint.hasAttention).toBe(false);
    expect(fromCheckpoint.grid).toBeNull();
    expect(fromCheckpoint.variant).toBe('merge');
    expect(fromCheckpoint.decoding.maxLength).toBe(run.config.vocab.maxCaptionLength);
    expect(fromCheckpoint.captions[0]!.chosen).toBe(true);
    expect(fromCheckpoint.captions[0]!.words.at(-1)!.word).toBe('<end>');

    const out = join(tempDir('captioner-explain-pkg-'), 'model');
    await supervisor.call('models.export', {
      checkpointPath: run.bestCheckpoint,
      out,
      name: 'tiny',
      overwrite: false,
      dataDir: run.dataDir,
      source: { runId: run.runId, runName: 'tiny', checkpoint: null },
      decoding,
      metrics: {},
      evaluation: null,
    });
    const fromPackage = await supervisor.call('explain.caption', { model: { kind: 'package', dir: out }, image, decoding, alternatives: 3, dataDir: run.dataDir });
    expect(fromPackage.captions.map((c) => c.caption)).toEqual(fromCheckpoint.captions.map((c) => c.caption));
    fromPackage.captions[0]!.words.forEach((word, t) => expect(word.logProb).toBeCloseTo(fromCheckpoint.captions[0]!.words[t]!.logProb, 4));
  });

  it('names what is missing', async () => {
    await expect(
      supervisor.call('explain.caption', { model: { kind: 'checkpoint', path: run.bestCheckpoint }, image: '/nowhere/x.png', decoding: {}, alternatives: 1, dataDir: run.dataDir }),
    ).rejects.toThrow(/x\.png/);
    await expect(
      supervisor.call('explain.caption', { model: { kind: 'checkpoint', path: '/nowhere/checkpoints/best' }, image, decoding: {}, alternatives: 1, dataDir: run.dataDir }),
    ).rejects.toThrow(/\/nowhere\/checkpoints\/best/);
  });
});
