/**
 * `npm run bench -- decode [--variant merge|init-inject|attention] [--images N] [--backend NAME]`
 *
 * Captions per second for greedy decoding and beam search of width 3 and 5,
 * batched (all images and all beams of a step in one forward pass), on the
 * reference decoder (LSTM, embedding 256, 256 units, vocabulary 5,000;
 * 1,280-dim pooled features or a 7×7×1,280 grid for attention). The model is
 * untrained, so captions run to the length limit (16 words): a worst case.
 */
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../src/main/ml/backend';
import { decode } from '../src/main/ml/infer/decode';
import type { DecodeOptions } from '../src/main/ml/infer/types';
import { CaptionDecoder } from '../src/main/ml/model/decoder';
import { Rng } from '../src/main/ml/model/rng';
import type { BackendName } from '../src/shared/types';
import type { DecoderVariant } from '../src/shared/runConfig';

function option(args: string[], name: string): string | undefined {
  const index = args.indexOf(`--${name}`);
  return index >= 0 ? args[index + 1] : undefined;
}

export async function run(args: string[]): Promise<void> {
  const forced = option(args, 'backend') as BackendName | undefined;
  const backend = await initBackend(forced ? { ...process.env, CAPTIONER_BACKEND: forced } : process.env);
  const variant = (option(args, 'variant') ?? 'merge') as DecoderVariant;
  const images = Number(option(args, 'images') ?? (backend.name === 'tensorflow' ? 64 : 8));
  const decoder = new CaptionDecoder(
    { variant, cell: 'lstm', layers: 1, vocabSize: 5000, embeddingDim: 256, units: 256, dropout: 0.3, attentionDim: 256, doublyStochasticWeight: 1, featureDim: 1280 },
    new Rng(1),
  );
  const features =
    variant === 'attention'
      ? { grid: tf.randomNormal([images, 49, 1280], 0, 1, 'float32', 2) as tf.Tensor3D }
      : { pooled: tf.randomNormal([images, 1280], 0, 1, 'float32', 2) as tf.Tensor2D };
  const constraints = { minLength: 1, maxLength: 16, noRepeatNgramSize: 0 };
  const strategies: Array<[string, DecodeOptions]> = [
    ['greedy', { strategy: 'greedy', ...constraints }],
    ['beam-3', { strategy: 'beam', beamWidth: 3, lengthPenalty: 1, ...constraints }],
    ['beam-5', { strategy: 'beam', beamWidth: 5, lengthPenalty: 1, ...constraints }],
  ];
  for (const [name, options] of strategies) {
    decode(decoder, features, options); // warm-up
    const repeats = backend.name === 'tensorflow' ? 3 : 1;
    const started = performance.now();
    let words = 0;
    for (let i = 0; i < repeats; i++) for (const caption of decode(decoder, features, options)) words += caption.tokens.length;
    const seconds = (performance.now() - started) / 1000;
    process.stdout.write(
      `${JSON.stringify({
        bench: 'decode',
        backend: backend.name,
        variant,
        strategy: name,
        images,
        captionsPerSecond: Number(((images * repeats) / seconds).toFixed(2)),
        meanWords: Number((words / (images * repeats)).toFixed(2)),
        secondsPerBatch: Number((seconds / repeats).toFixed(4)),
      })}\n`,
    );
  }
  decoder.dispose();
  tf.dispose([features.pooled ?? [], 'grid' in features ? features.grid : []]);
}
