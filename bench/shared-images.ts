/**
 * `npm run bench -- shared-images [--per-image 1,2,3,5] [--preset shapes-grounded]
 *   [--images 400] [--image-size PX] [--steps 40] [--warmup 80] [--rounds 2] [--backend NAME]
 *   [--set PATH=VALUE]...`
 *
 * What `training.captionsPerImage` (k) buys in training time: the preset's
 * real training steps on a Shapes set, with k captions of one image sharing
 * an encoder pass, timed as bench/lib/epochTime.ts does (the k in turn, for
 * several rounds; seconds per epoch, since every epoch holds the same
 * captions for every k but not the same number of steps). Shared images
 * give two kinds of batch and so more step shapes: each line says what
 * share of that k's steps ran as graphs.
 * `--image-size` changes the preset's input size, and so the encoder's share
 * of a step (a scratch CNN's work grows with the pixels). `--set` changes
 * any field of the preset, as for `captioner train` (with `--per-image 1`:
 * the step time of another configuration).
 * One JSON line per k, with its ratio to the first k listed.
 */
import { parseArgs } from 'node:util';
import { initBackend } from '../src/main/ml/backend';
import { overridesFromAssignments } from '../src/main/cli/setAssignments';
import { mergeConfig } from '../src/shared/runConfig';
import type { BackendName } from '../src/shared/types';
import { epochTimes } from './lib/epochTime';

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
  const encoder = values['image-size'] ? { imageSize: Number(values['image-size']) } : {};
  const times = await epochTimes(
    {
      preset: values.preset as 'shapes-grounded',
      overrides: mergeConfig(overridesFromAssignments(values.set), { encoder }),
      images: Number(values.images),
      steps: Number(values.steps),
      warmup: Number(values.warmup),
      rounds: Number(values.rounds),
      backend: await initBackend({ CAPTIONER_BACKEND: values.backend as BackendName }),
    },
    perImage.map((k) => ({ name: String(k), overrides: { training: { captionsPerImage: k } } })),
  );
  for (const { name, ...time } of times) {
    process.stdout.write(
      `${JSON.stringify({
        bench: 'shared-images',
        preset: values.preset,
        ...(values.set.length > 0 ? { overrides: values.set } : {}),
        captionsPerImage: Number(name),
        ...time,
      })}\n`,
    );
  }
}
