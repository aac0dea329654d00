/**
 * The spatial half of the Shapes benchmark on native TensorFlow: a small set
 * of two-object scenes trained with the shapes-grounded preset (scratch CNN
 * grid, attention decoder, horizontal flip) on a reduced budget, then the
 * test split captioned greedily. What the captions say about *where* objects
 * are — relations ("a circle left of a star") and positions ("at the top
 * left") — must be true far more often than by chance: the same captions
 * handed to the wrong images (each image gets the next one's caption).
 *
 * A pooled-feature model cannot do this (its relation precision on the full
 * benchmark was 0.00); the full-size numbers come from
 * `npm run bench -- shapes-quality` (docs/shapes-benchmark.md). Skipped,
 * with the reason printed, where the native backend is not built.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { synthesizeShapes } from '../../src/main/lib/data/shapes/synth';
import { groundedAccuracy } from '../../src/main/lib/eval/grounded';
import { initBackend } from '../../src/main/ml/backend';
import { evaluateCheckpoint } from '../../src/main/ml/eval/evaluate';
import { train } from '../../src/main/ml/train/trainer';
import { configFromPreset } from '../../src/shared/runConfig';
import type { BackendInfo } from '../../src/shared/types';

async function nativeBackend(): Promise<{ backend: BackendInfo | null; reason: string }> {
  const forced = process.env.CAPTIONER_BACKEND;
  if (forced && forced !== 'tensorflow') return { backend: null, reason: `CAPTIONER_BACKEND=${forced} asks for another backend.` };
  try {
    return { backend: await initBackend({ CAPTIONER_BACKEND: 'tensorflow' }), reason: '' };
  } catch (error) {
    return { backend: null, reason: (error as Error).message };
  }
}

// Opt-in until shapes-grounded reaches its goal: at six epochs of this small
// set the model does not yet state relations (measured: 0 relation claims,
// 0 of 13 position claims right; docs/shapes-benchmark.md, "Where it stands").
const enabled = process.env.CAPTIONER_SHAPES_QUALITY === '1';
const native = enabled ? await nativeBackend() : { backend: null, reason: '' };
if (!enabled) console.warn('Skipping the Shapes quality test: set CAPTIONER_SHAPES_QUALITY=1 to run it (about 3 minutes on native TensorFlow; it does not pass yet).');
else if (!native.backend) console.warn(`Skipping the Shapes quality test: it needs the native TensorFlow backend (npm run setup:tensorflow). ${native.reason}`);

describe('Shapes quality (grounded, spatial)', () => {
  it.skipIf(!native.backend)('states relations and positions far more truly than chance', { timeout: 1_800_000 }, async () => {
    const root = mkdtempSync(join(tmpdir(), 'captioner-shapes-quality-'));
    try {
      const dataset = join(root, 'shapes');
      await synthesizeShapes({ out: dataset, images: 400, imageSize: 48, maxObjects: 2, textures: false, seed: 5 });
      const config = configFromPreset('shapes-grounded', {
        dataset: { path: dataset },
        encoder: { imageSize: 48 },
        training: { epochs: 6, seed: 7, maxMinutes: 0, earlyStoppingPatience: 0 },
        validation: { subsetSize: 0, sampleImages: 0 },
      });
      const result = await train({ config, runDir: join(root, 'run'), dataDir: root, backend: native.backend! });
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
      const model = evaluation.grounded!;
      const none = { claims: 0, correct: 0, precision: null };
      const relation = model.attributes.relation ?? none;
      const position = model.attributes.position ?? none;
      const items = evaluation.items;
      const shifted = items.map((item, i): [string, string] => [item.imagePath, items[(i + 1) % items.length]!.caption]);
      const chance = await groundedAccuracy(model.scenesFile, shifted);

      const numbers = {
        relation,
        position,
        chanceRelation: chance.attributes.relation?.precision ?? null,
        chancePosition: chance.attributes.position?.precision ?? null,
        exactCaptions: model.exactCaptions,
        sample: items.slice(0, 3).map((item) => item.caption),
      };
      console.log(`Shapes quality result: ${JSON.stringify(numbers)}`);
      // The model must make such claims at all, and make them mostly true.
      expect(relation.claims).toBeGreaterThanOrEqual(10);
      expect(position.claims).toBeGreaterThanOrEqual(10);
      expect(relation.precision!).toBeGreaterThan((numbers.chanceRelation ?? 0) + 0.4);
      expect(position.precision!).toBeGreaterThan((numbers.chancePosition ?? 0) + 0.4);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
