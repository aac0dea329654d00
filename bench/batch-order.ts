/**
 * `npm run bench -- batch-order [--preset shapes-grounded] [--images 400]
 *   [--steps 60] [--warmup 100] [--rounds 2] [--backend NAME] [--set PATH=VALUE]...`
 *
 * What `training.batchByLength` buys in training time: the preset's real
 * training steps on a Shapes set with batches drawn at random and with
 * batches by caption length, timed as bench/lib/epochTime.ts does (in turn,
 * for several rounds, seconds per epoch). Batches by length have up to six
 * step shapes besides the epoch's last batch, so the warm-up is longer than
 * shared-images' to see each of them twice before timing. One JSON line per
 * order, with its ratio to random batches.
 */
import { parseArgs } from 'node:util';
import { initBackend } from '../src/main/ml/backend';
import { overridesFromAssignments } from '../src/main/cli/setAssignments';
import type { BackendName } from '../src/shared/types';
import { epochTimes } from './lib/epochTime';

export async function run(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      preset: { type: 'string', default: 'shapes-grounded' },
      images: { type: 'string', default: '400' },
      steps: { type: 'string', default: '60' },
      warmup: { type: 'string', default: '100' },
      rounds: { type: 'string', default: '2' },
      backend: { type: 'string', default: 'tensorflow' },
      set: { type: 'string', multiple: true, default: [] },
    },
  });
  const times = await epochTimes(
    {
      preset: values.preset as 'shapes-grounded',
      overrides: overridesFromAssignments(values.set),
      images: Number(values.images),
      steps: Number(values.steps),
      warmup: Number(values.warmup),
      rounds: Number(values.rounds),
      backend: await initBackend({ CAPTIONER_BACKEND: values.backend as BackendName }),
    },
    [
      { name: 'random', overrides: { training: { batchByLength: false } } },
      { name: 'by-length', overrides: { training: { batchByLength: true } } },
    ],
  );
  for (const { name, ...time } of times) {
    process.stdout.write(`${JSON.stringify({ bench: 'batch-order', preset: values.preset, ...(values.set.length > 0 ? { overrides: values.set } : {}), order: name, ...time })}\n`);
  }
}
