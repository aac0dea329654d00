/**
 * `npm run bench -- decode [--variant merge|init-inject|attention] [--images N] [--rounds R] [--backend NAME]`
 * `npm run bench -- decode --package DIR --image-dir DIR [--images N] [--batch B] [--rounds R]`
 *
 * Captions per second for greedy decoding and beam search of width 3 and 5,
 * batched (all images and all beams of a step in one forward pass).
 *
 * Without `--package`: the reference decoder (LSTM, embedding 256, 256
 * units, vocabulary 5,000; 1,280-dim pooled features or a 7×7×1,280 grid for
 * attention), untrained, so every caption runs to the length limit (16
 * words) and no beam ever finishes early: the worst case for beam search.
 *
 * With `--package`: a trained model package (`captioner export`) captions
 * the first N images of a folder in batches of B (default 16, as batch
 * captioning does), with the package's own length limit; the images are
 * encoded once, outside the timing. This is what evaluation and batch
 * captioning pay: captions end where the model ends them, an image is done
 * once none of its beams can beat its best finished caption, and finished
 * images' rows (greedy: finished captions') leave the batch.
 *
 * The strategies are timed in rounds, interleaved (each round decodes every
 * batch once with each), so the load of a shared machine falls on all alike;
 * each line gives greedy's captions/s over its own. The plain rows take the
 * decoder's own choices; for attention (see `CaptionDecoder.initialState`)
 * that is the grid projected once per image for beam 5 and the context
 * projected per row and step for greedy and beam 3. `beam-5/per-step` and
 * the two `beam-10/…` rows time the other way too, in the same run.
 *
 * `beam-5/model-work` is beam 5's floor: the steps beam 5 took on each batch
 * (recorded in a first pass: how many rows, for how many images), stepped
 * again with the model alone, each step's top words and log-sum-exp
 * included and read back, but no search on the host. No beam search that
 * steps those rows can be faster than this row.
 */
import * as tf from '@tensorflow/tfjs';
import { readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { initBackend } from '../src/main/ml/backend';
import { DEFAULT_CAPTION_BATCH, encodeImageFiles } from '../src/main/ml/captioning/captionImages';
import { END_ID } from '../src/main/lib/data/text/vocabulary';
import { decode } from '../src/main/ml/infer/decode';
import { rowTopK } from '../src/main/ml/infer/rowTopK';
import { rowsOf } from '../src/main/ml/infer/stepping';
import type { DecodeOptions, StepDecoder } from '../src/main/ml/infer/types';
import { CaptionDecoder, type DecoderFeatures, type DecoderState } from '../src/main/ml/model/decoder';
import { loadPackageModel } from '../src/main/ml/packages/loadPackage';
import { Rng } from '../src/main/ml/model/rng';
import type { BackendName } from '../src/shared/types';
import type { DecoderVariant } from '../src/shared/runConfig';

function option(args: string[], name: string): string | undefined {
  const index = args.indexOf(`--${name}`);
  return index >= 0 ? args[index + 1] : undefined;
}

/** The decoder as a plain StepDecoder (its methods live on the class, so a spread would lose them), some of them replaced. */
function forwarding(decoder: CaptionDecoder, replaced: Partial<StepDecoder<DecoderState>>): StepDecoder<DecoderState> {
  return {
    vocabSize: decoder.vocabSize,
    rowIndependentSteps: decoder.rowIndependentSteps,
    batchDependentSteps: decoder.batchDependentSteps,
    initialState: (features, plan) => decoder.initialState(features, plan),
    step: (tokens, state) => decoder.step(tokens, state),
    stepLogits: (tokens, state) => decoder.stepLogits(tokens, state),
    selectRows: (state, rows, options) => decoder.selectRows(state, rows, options),
    stateTensors: (state) => decoder.stateTensors(state),
    ...replaced,
  };
}

/** The decoder with the grid projection decided: once per image (true) or per row and step (false). */
function withGridProjection(decoder: CaptionDecoder, projectGrid: boolean): StepDecoder<DecoderState> {
  return forwarding(decoder, {
    initialState: (features, plan) => decoder.initialState(features, { beams: plan?.beams ?? 1, steps: plan?.steps ?? 1, projectGrid }),
  });
}

interface Contender {
  name: string;
  /** Decodes one batch (its index among the batches); returns the words of its captions. */
  run: (batch: DecoderFeatures, index: number) => number;
}

const decoding = (name: string, model: StepDecoder<DecoderState>, options: DecodeOptions): Contender => ({
  name,
  run: (batch) => decode(model, batch, options).reduce((words, caption) => words + caption.tokens.length, 0),
});

/** One step of a search: how many rows it stepped, for how many images' tensors. */
interface SteppedRows {
  rows: number;
  images: number;
}

const imageRowsOf = (state: DecoderState): number => (state.grid ?? state.gridOut ?? state.imageProj ?? state.layers[0]!.h).shape[0];

/** The rows every step of `options` stepped on each batch, recorded by decoding each batch once. */
function recordSteps(decoder: CaptionDecoder, batches: DecoderFeatures[], options: DecodeOptions): SteppedRows[][] {
  let steps: SteppedRows[] = [];
  const record = (tokens: tf.Tensor1D, state: DecoderState) => steps.push({ rows: tokens.shape[0], images: imageRowsOf(state) });
  const recording = forwarding(decoder, {
    step: (tokens, state) => {
      record(tokens, state);
      return decoder.step(tokens, state);
    },
    stepLogits: (tokens, state) => {
      record(tokens, state);
      return decoder.stepLogits(tokens, state);
    },
  });
  return batches.map((batch) => {
    steps = [];
    decode(recording, batch, options);
    return steps;
  });
}

/**
 * A search's model work alone: each recorded step's rows, formed from the
 * batch's initial state (a gather, as the search's reordering is), stepped,
 * with the top words and log-sum-exp of every row read back.
 */
function modelWork(decoder: CaptionDecoder, options: DecodeOptions & { strategy: 'beam' }, plans: SteppedRows[][]): Contender {
  return {
    name: `beam-${options.beamWidth}/model-work`,
    run: (batch, index) => {
      const initial = decoder.initialState(batch, { beams: options.beamWidth, steps: options.maxLength + 1 });
      try {
        for (const { rows, images: live } of plans[index]!) {
          tf.tidy(() => {
            const perImage = rows / live;
            const state = decoder.selectRows(initial, tf.tensor1d(Array.from({ length: rows }, (_, row) => Math.floor(row / perImage)), 'int32'), {
              imageRowsUnchanged: true,
              imageRows: tf.tensor1d(Array.from({ length: live }, (_, image) => image), 'int32'),
            });
            const { logits } = decoder.stepLogits(tf.fill([rows], END_ID + 1, 'int32') as tf.Tensor1D, state);
            const top = rowTopK(logits, 2 * options.beamWidth);
            const logSumExp = tf.log(tf.sum(tf.exp(tf.sub(logits, top.max)), 1));
            top.values.dataSync();
            top.positions.dataSync();
            logSumExp.dataSync();
          });
        }
      } finally {
        tf.dispose(decoder.stateTensors(initial));
      }
      return 0;
    },
  };
}

/** Decodes every batch with every contender, `rounds` times, interleaved; one JSON line per contender. */
function timeContenders(contenders: Contender[], batches: DecoderFeatures[], rounds: number, fields: Record<string, unknown>): void {
  const images = batches.reduce((sum, batch) => sum + rowsOf(batch), 0);
  const seconds = contenders.map(() => 0);
  const words = contenders.map(() => 0);
  for (const contender of contenders) contender.run(batches[0]!, 0); // warm-up
  for (let round = 0; round < rounds; round++) {
    contenders.forEach((contender, i) => {
      const started = performance.now();
      batches.forEach((batch, index) => (words[i]! += contender.run(batch, index)));
      seconds[i]! += (performance.now() - started) / 1000;
    });
  }
  const captionsPerSecond = seconds.map((s) => (images * rounds) / s);
  contenders.forEach((contender, i) => {
    process.stdout.write(
      `${JSON.stringify({
        bench: 'decode',
        ...fields,
        strategy: contender.name,
        images,
        rounds,
        captionsPerSecond: Number(captionsPerSecond[i]!.toFixed(2)),
        greedyOverThis: Number((captionsPerSecond[0]! / captionsPerSecond[i]!).toFixed(2)),
        meanWords: words[i]! > 0 ? Number((words[i]! / (images * rounds)).toFixed(2)) : null,
        secondsPerRound: Number((seconds[i]! / rounds).toFixed(4)),
      })}\n`,
    );
  });
}

const beam = (width: number, constraints: { minLength: number; maxLength: number; noRepeatNgramSize: number }): DecodeOptions & { strategy: 'beam' } => ({
  strategy: 'beam',
  beamWidth: width,
  lengthPenalty: 1,
  ...constraints,
});

export async function run(args: string[]): Promise<void> {
  const forced = option(args, 'backend') as BackendName | undefined;
  const backend = await initBackend(forced ? { ...process.env, CAPTIONER_BACKEND: forced } : process.env);
  const packageDir = option(args, 'package');
  if (packageDir) await runTrained(args, backend.name, packageDir);
  else runUntrained(args, backend.name);
}

/** The untrained reference decoder on random features: every caption runs to the limit. */
function runUntrained(args: string[], backendName: string): void {
  const variant = (option(args, 'variant') ?? 'merge') as DecoderVariant;
  const native = backendName === 'tensorflow';
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
  const contenders: Contender[] = [
    decoding('greedy', decoder, { strategy: 'greedy', ...constraints }),
    decoding('beam-3', decoder, beam(3, constraints)),
    decoding('beam-5', decoder, beam(5, constraints)),
    modelWork(decoder, beam(5, constraints), recordSteps(decoder, [features], beam(5, constraints))),
  ];
  if (variant === 'attention') {
    const projected = withGridProjection(decoder, true);
    const perStep = withGridProjection(decoder, false);
    contenders.push(
      decoding('beam-5/per-step', perStep, beam(5, constraints)),
      decoding('beam-10/projected', projected, beam(10, constraints)),
      decoding('beam-10/per-step', perStep, beam(10, constraints)),
    );
  }
  timeContenders(contenders, [features], rounds, { backend: backendName, model: 'untrained', variant });
  decoder.dispose();
  tf.dispose([features.pooled ?? [], 'grid' in features ? features.grid : []]);
}

/** A trained package on real images, in captioning's batches: what evaluation and batch captioning pay. */
async function runTrained(args: string[], backendName: string, packageDir: string): Promise<void> {
  const imageDir = option(args, 'image-dir');
  if (!imageDir) throw new Error('--package needs --image-dir DIR: the images to caption.');
  const model = await loadPackageModel(resolve(packageDir));
  const files = readdirSync(imageDir)
    .filter((file) => /\.(png|jpe?g|webp)$/i.test(file))
    .sort()
    .slice(0, Number(option(args, 'images') ?? 256))
    .map((file) => join(imageDir, file));
  if (files.length === 0) throw new Error(`${imageDir}: no PNG, JPEG or WebP images.`);
  const batchSize = Math.max(1, Number(option(args, 'batch') ?? DEFAULT_CAPTION_BATCH));
  const rounds = Math.max(1, Number(option(args, 'rounds') ?? 3));
  const batches: DecoderFeatures[] = [];
  try {
    for (let start = 0; start < files.length; start += batchSize) {
      const { features, errors } = await encodeImageFiles(model, files.slice(start, start + batchSize));
      if (features) batches.push(features);
      // The reason already names the file.
      if (errors.length > 0) throw new Error(errors[0]!.message);
    }
    const constraints = { minLength: 1, maxLength: model.maxCaptionLength, noRepeatNgramSize: 0 };
    const contenders: Contender[] = [
      decoding('greedy', model.decoder, { strategy: 'greedy', ...constraints }),
      decoding('beam-3', model.decoder, beam(3, constraints)),
      decoding('beam-5', model.decoder, beam(5, constraints)),
      modelWork(model.decoder, beam(5, constraints), recordSteps(model.decoder, batches, beam(5, constraints))),
    ];
    const { variant, vocabSize } = model.config.decoder;
    timeContenders(contenders, batches, rounds, { backend: backendName, model: model.config.name ?? packageDir, variant, vocabSize, batch: batchSize });
  } finally {
    for (const batch of batches) tf.dispose([batch.pooled ?? [], batch.grid ?? []]);
    model.dispose();
  }
}
