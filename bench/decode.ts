/**
 * `npm run bench -- decode [--variant merge|init-inject|attention] [--images N] [--rounds R] [--backend NAME]`
 *
 * Captions per second for greedy decoding and beam search of width 3 and 5,
 * batched (all images and all beams of a step in one forward pass), on the
 * reference decoder (LSTM, embedding 256, 256 units, vocabulary 5,000;
 * 1,280-dim pooled features or a 7×7×1,280 grid for attention). The model is
 * untrained, so captions run to the length limit (16 words): a worst case.
 *
 * The strategies are timed in rounds, interleaved (each round decodes the
 * batch once with each), so the load of a shared machine falls on all alike;
 * each line gives greedy's captions/s over its own. The plain rows take the
 * decoder's own choices; for attention (see `CaptionDecoder.initialState`)
 * that is the grid projected once per image for beam 5 and the context
 * projected per row and step for greedy and beam 3. `beam-5/per-step` and
 * the two `beam-10/…` rows time the other way too, in the same run.
 */
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../src/main/ml/backend';
import { decode } from '../src/main/ml/infer/decode';
import type { DecodeOptions, StepDecoder } from '../src/main/ml/infer/types';
import { CaptionDecoder, type DecoderState } from '../src/main/ml/model/decoder';
import { Rng } from '../src/main/ml/model/rng';
import type { BackendName } from '../src/shared/types';
import type { DecoderVariant } from '../src/shared/runConfig';

function option(args: string[], name: string): string | undefined {
  const index = args.indexOf(`--${name}`);
  return index >= 0 ? args[index + 1] : undefined;
}

/** The decoder with the grid projection decided: once per image (true) or per row and step (false). */
function withGridProjection(decoder: CaptionDecoder, projectGrid: boolean): StepDecoder<DecoderState> {
  return {
    vocabSize: decoder.vocabSize,
    rowIndependentSteps: decoder.rowIndependentSteps,
    initialState: (features, plan) => decoder.initialState(features, { beams: plan?.beams ?? 1, steps: plan?.steps ?? 1, projectGrid }),
    step: (tokens, state) => decoder.step(tokens, state),
    stepLogits: (tokens, state) => decoder.stepLogits(tokens, state),
    selectRows: (state, rows, options) => decoder.selectRows(state, rows, options),
    stateTensors: (state) => decoder.stateTensors(state),
  };
}

export async function run(args: string[]): Promise<void> {
  const forced = option(args, 'backend') as BackendName | undefined;
  const backend = await initBackend(forced ? { ...process.env, CAPTIONER_BACKEND: forced } : process.env);
  const variant = (option(args, 'variant') ?? 'merge') as DecoderVariant;
  const native = backend.name === 'tensorflow';
  const images = Number(option(args, 'images') ?? (native ? 64 : 8));
  const rounds = Math.max(1, Number(option(args, 'rounds') ?? (native ? 3 : 1)));
  const decoder = new CaptionDecoder(
    { variant, cell: 'lstm', layers: 1, vocabSize: 5000, embeddingDim: 256, units: 256, dropout: 0.3, attentionDim: 256, doublyStochasticWeight: 1, featureDim: 1280 },
    new Rng(1),
  );
  const features =
    variant === 'attention'
      ? { grid: tf.randomNormal([images, 49, 1280], 0, 1, 'float32', 2) as tf.Tensor3D }
      : { pooled: tf.randomNormal([images, 1280], 0, 1, 'float32', 2) as tf.Tensor2D };
  const constraints = { minLength: 1, maxLength: 16, noRepeatNgramSize: 0 };
  const beam = (width: number): DecodeOptions => ({ strategy: 'beam', beamWidth: width, lengthPenalty: 1, ...constraints });
  const contenders: Array<{ name: string; model: StepDecoder<DecoderState>; options: DecodeOptions }> = [
    { name: 'greedy', model: decoder, options: { strategy: 'greedy', ...constraints } },
    { name: 'beam-3', model: decoder, options: beam(3) },
    { name: 'beam-5', model: decoder, options: beam(5) },
  ];
  if (variant === 'attention') {
    const projected = withGridProjection(decoder, true);
    const perStep = withGridProjection(decoder, false);
    contenders.push(
      { name: 'beam-5/per-step', model: perStep, options: beam(5) },
      { name: 'beam-10/projected', model: projected, options: beam(10) },
      { name: 'beam-10/per-step', model: perStep, options: beam(10) },
    );
  }
  const seconds = contenders.map(() => 0);
  const words = contenders.map(() => 0);
  for (const contender of contenders) decode(contender.model, features, contender.options); // warm-up
  for (let round = 0; round < rounds; round++) {
    contenders.forEach((contender, i) => {
      const started = performance.now();
      for (const caption of decode(contender.model, features, contender.options)) words[i]! += caption.tokens.length;
      seconds[i]! += (performance.now() - started) / 1000;
    });
  }
  const captionsPerSecond = seconds.map((s) => (images * rounds) / s);
  contenders.forEach((contender, i) => {
    process.stdout.write(
      `${JSON.stringify({
        bench: 'decode',
        backend: backend.name,
        variant,
        strategy: contender.name,
        images,
        rounds,
        captionsPerSecond: Number(captionsPerSecond[i]!.toFixed(2)),
        greedyOverThis: Number((captionsPerSecond[0]! / captionsPerSecond[i]!).toFixed(2)),
        meanWords: Number((words[i]! / (images * rounds)).toFixed(2)),
        secondsPerBatch: Number((seconds[i]! / rounds).toFixed(4)),
      })}\n`,
    );
  });
  decoder.dispose();
  tf.dispose([features.pooled ?? [], 'grid' in features ? features.grid : []]);
}
