/**
 * Proof that training works: a small Shapes set (one object per image, no
 * textures) trained with the shapes-quick recipe on native TensorFlow, then
 * the best checkpoint evaluated on the test split with greedy decoding.
 * BLEU-4 and the grounded Shapes accuracy (are the stated colours, shapes,
 * sizes, positions and backgrounds true of the image?) must clearly beat a
 * chance baseline: the same model captions handed to the wrong images.
 *
 * About a minute on native TensorFlow on a laptop CPU; skipped (with the
 * reason printed) where the native backend is not built — on pure JS or wasm
 * it would take far longer.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { synthesizeShapes } from '../../src/main/lib/data/shapes/synth';
import { evaluateCheckpoint } from '../../src/main/ml/eval/evaluate';
import { groundedAccuracy } from '../../src/main/lib/eval/grounded';
import { train } from '../../src/main/ml/train/trainer';
import { scoreCorpus } from '../../src/main/lib/metrics';
import { configFromPreset } from '../../src/shared/runConfig';
import { nativeBackend } from '../helpers/nativeBackend';

const native = await nativeBackend();
if (!native.backend) console.warn(`Skipping the Shapes training test: it needs the native TensorFlow backend (npm run setup:tensorflow). ${native.reason}`);

describe('training on Shapes', () => {
  it.skipIf(!native.backend)('reaches clearly better-than-chance BLEU-4 and grounded accuracy', { timeout: 900_000 }, async () => {
    const root = mkdtempSync(join(tmpdir(), 'captioner-shapes-'));
    const dataset = join(root, 'shapes');
    const synth = await synthesizeShapes({ out: dataset, images: 240, imageSize: 48, maxObjects: 1, textures: false, seed: 1 });
    const config = configFromPreset('shapes-quick', {
      dataset: { path: dataset },
      encoder: { imageSize: 48 },
      optimizer: { learningRate: 3e-3 },
      training: { epochs: 8, batchSize: 32, earlyStoppingPatience: 0, seed: 42 },
      validation: { subsetSize: 0, sampleImages: 0 },
    });
    const started = Date.now();
    const result = await train({ config, runDir: join(root, 'run'), dataDir: root, backend: native.backend! });
    const trainSeconds = (Date.now() - started) / 1000;
    expect(result.outcome).toBe('completed');

    const evaluation = await evaluateCheckpoint({
      checkpointPath: result.bestCheckpoint!,
      datasetPath: null,
      split: 'test',
      decoding: { strategy: 'greedy' },
      limit: 0,
      batchSize: 32,
      dataDir: root,
    });
    const items = evaluation.items;
    expect(items.length).toBe(synth.splits.test);
    // Chance: each caption given to the next image instead of its own.
    const shifted = items.map((item, i) => ({ ...item, caption: items[(i + 1) % items.length]!.caption }));
    const chanceBleu = scoreCorpus(shifted.map((item) => ({ imageId: item.imageId, candidate: item.caption, references: item.references }))).aggregate.bleu4;
    const chanceGrounded = await groundedAccuracy(evaluation.grounded!.scenesFile, shifted.map((item) => [item.imagePath, item.caption]));

    const numbers = {
      images: { train: synth.splits.train, test: items.length },
      trainSeconds,
      bleu4: evaluation.aggregate.bleu4,
      ciderD: evaluation.aggregate.ciderD,
      grounded: evaluation.grounded!.overall.precision,
      groundedColor: evaluation.grounded!.attributes.color?.precision ?? null,
      chanceBleu4: chanceBleu,
      chanceGrounded: chanceGrounded.overall.precision,
      chanceGroundedColor: chanceGrounded.attributes.color?.precision ?? null,
    };
    console.log(`Shapes training result: ${JSON.stringify(numbers)}`);
    expect(numbers.bleu4).toBeGreaterThan(chanceBleu + 0.1);
    expect(numbers.grounded!).toBeGreaterThan(chanceGrounded.overall.precision! + 0.15);
  });
});
