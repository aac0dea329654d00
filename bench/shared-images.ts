/**
 * `npm run bench -- shared-images [--per-image 1,2,3,5] [--preset shapes-grounded]
 *   [--images 400] [--image-size PX] [--steps 40] [--warmup 80] [--rounds 2] [--backend NAME]
 *   [--set PATH=VALUE]...`
 *
 * What `training.captionsPerImage` (k) buys in training time: the preset's
 * real training steps (scratch CNN, graphs on the native backend) on a
 * Shapes set, with k captions of one image sharing an encoder pass. For each
 * k, a run of warm-up steps then timed steps; the k are run in turn, for
 * several rounds, so a shared machine's load falls on all of them alike.
 * The warm-up must cover the first sights of the step shapes, which run
 * eagerly and are traced into graphs (ml/graph/graphSteps.ts); shared
 * images give two kinds of batch and so more shapes, and a short warm-up
 * would charge their tracing to the timed steps, a cost a real run pays
 * once over thousands of steps. Each line says what share of that k's steps
 * ran as graphs. Every epoch holds
 * the same captions for every k but not the same number of steps, so the
 * comparison is seconds per epoch: mean step seconds × steps per epoch.
 * `--image-size` changes the preset's input size, and so the encoder's share
 * of a step (a scratch CNN's work grows with the pixels). `--set` changes
 * any field of the preset, as for `captioner train` (with `--per-image 1`:
 * the step time of another configuration).
 * One JSON line per k, with its ratio to the first k listed.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { initBackend } from '../src/main/ml/backend';
import { synthesizeShapes } from '../src/main/lib/data/shapes/synth';
import { train } from '../src/main/ml/train/trainer';
import { overridesFromAssignments } from '../src/main/cli/setAssignments';
import { configFromPreset, mergeConfig } from '../src/shared/runConfig';
import type { BackendName } from '../src/shared/types';

interface Sample {
  stepSeconds: number[];
  stepsPerEpoch: number;
  replays: number;
  steps: number;
}

export async function run(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      'per-image': { type: 'string', default: '1,2,3,5' },
      preset: { type: 'string', default: 'shapes-grounded' },
      images: { type: 'string', default: '400' },
      'image-size': { type: 'string' },
      steps: { type: 'string', default: '40' },
      warmup: { type: 'string', default: '80' },
      rounds: { type: 'string', default: '2' },
      backend: { type: 'string', default: 'tensorflow' },
      set: { type: 'string', multiple: true, default: [] },
    },
  });
  const perImage = values['per-image'].split(',').map(Number);
  const [steps, warmup, rounds] = [Number(values.steps), Number(values.warmup), Number(values.rounds)];
  const backend = await initBackend({ CAPTIONER_BACKEND: values.backend as BackendName });
  const root = mkdtempSync(join(tmpdir(), 'captioner-bench-shared-'));
  try {
    const dataset = join(root, 'shapes');
    const overrides = overridesFromAssignments(values.set);
    const encoder = values['image-size'] ? { imageSize: Number(values['image-size']) } : {};
    const probe = configFromPreset(values.preset as 'shapes-grounded', mergeConfig(overrides, { dataset: { path: dataset }, encoder }));
    await synthesizeShapes({ out: dataset, images: Number(values.images), imageSize: probe.encoder.imageSize, seed: 1 });
    const samples = new Map<number, Sample>(perImage.map((k) => [k, { stepSeconds: [], stepsPerEpoch: 0, replays: 0, steps: 0 }]));
    for (let round = 0; round < rounds; round++) {
      for (const k of perImage) {
        const sample = samples.get(k)!;
        const config = configFromPreset(
          values.preset as 'shapes-grounded',
          mergeConfig(overrides, {
            dataset: { path: dataset },
            encoder,
            training: { captionsPerImage: k, epochs: 1000, maxMinutes: 0 },
            validation: { subsetSize: 1, sampleImages: 0 },
          }),
        );
        let seen = 0;
        await train({
          config,
          runDir: join(root, `run-${round}-${k}`),
          dataDir: root,
          backend,
          maxSteps: warmup + steps,
          stepsOnly: true,
          stepEventIntervalMs: 0,
          log: (_level, message) => {
            const graphs = /^(\d+) of (\d+) training steps ran as TensorFlow graphs/.exec(message);
            if (!graphs) return;
            sample.replays += Number(graphs[1]);
            sample.steps += Number(graphs[2]);
          },
          onEvent: (event) => {
            if (event.kind !== 'step') return;
            sample.stepsPerEpoch = event.stepsPerEpoch;
            if (++seen > warmup) sample.stepSeconds.push(event.seconds);
          },
        });
      }
    }
    const epochSeconds = (sample: Sample) => (sample.stepSeconds.reduce((sum, s) => sum + s, 0) / sample.stepSeconds.length) * sample.stepsPerEpoch;
    const baseline = epochSeconds(samples.get(perImage[0]!)!);
    for (const k of perImage) {
      const sample = samples.get(k)!;
      const seconds = epochSeconds(sample);
      process.stdout.write(
        `${JSON.stringify({
          bench: 'shared-images',
          preset: values.preset,
          ...(values.set.length > 0 ? { overrides: values.set } : {}),
          imageSize: probe.encoder.imageSize,
          captionsPerImage: k,
          timedSteps: sample.stepSeconds.length,
          stepsPerEpoch: sample.stepsPerEpoch,
          meanStepSeconds: Number((seconds / sample.stepsPerEpoch).toFixed(4)),
          epochSeconds: Number(seconds.toFixed(2)),
          epochTimeRatio: Number((seconds / baseline).toFixed(3)),
          graphShare: sample.steps > 0 ? Number((sample.replays / sample.steps).toFixed(3)) : 0,
          backend: backend.name,
          cores: availableParallelism(),
          cpu: cpus()[0]?.model ?? 'unknown',
        })}\n`,
      );
    }
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}
