/**
 * Every finished caption of a beam search for one image, not only the best.
 * Beam search in ml/infer returns the best hypothesis per image; explaining a
 * caption also shows what else the beam found. This follows the same rules
 * (2·width candidates per step, <end> accepted only from the top width,
 * done at width finished hypotheses, the same bans and length limit), and a
 * test checks that its best caption is the one `decode` returns.
 */
import * as tf from '@tensorflow/tfjs';
import { END_ID, START_ID } from '../../lib/data/text/vocabulary';
import type { DecoderFeatures } from '../model/decoder';
import { applyBans, BANNED } from '../infer/constraints';
import { onlyEnd } from '../infer/sequential';
import { releaseState, rowsOf, tidyKeep } from '../infer/stepping';
import type { BeamOptions, StepDecoder } from '../infer/types';

export interface BeamHypothesis {
  /** Word ids without <start> and <end>. */
  tokens: number[];
  /** Σ log p of the words and <end>. */
  logProb: number;
  /** logProb / (words + 1)^lengthPenalty: what the beam ranks by. */
  score: number;
}

/**
 * The finished hypotheses of a beam search over one image, best score first:
 * at least one and fewer than 2·width (the last step may finish several).
 */
export function beamHypotheses<S>(model: StepDecoder<S>, features: DecoderFeatures, options: BeamOptions): BeamHypothesis[] {
  if (rowsOf(features) !== 1) throw new Error(`Beam alternatives are found for one image at a time, got ${rowsOf(features)}.`);
  const width = Math.max(1, Math.floor(options.beamWidth));
  const vocab = model.vocabSize;
  const candidates = Math.min(2 * width, width * vocab);
  let histories: number[][] = Array.from({ length: width }, () => []);
  // Only the first beam is live at the start, so the first step does not pick the same word width times.
  let scores = Float32Array.from({ length: width }, (_, row) => (row === 0 ? 0 : BANNED));
  const finished: { tokens: number[]; logProb: number }[] = [];

  let state = tidyKeep(
    () => model.selectRows(model.initialState(features, { beams: width, steps: options.maxLength + 1 }), tf.zeros([width], 'int32') as tf.Tensor1D),
    (s) => model.stateTensors(s),
  );
  let previous = tf.fill([width], START_ID, 'int32') as tf.Tensor1D;
  try {
    for (let step = 0; step <= options.maxLength && finished.length < width; step++) {
      const out = tidyKeep(
        () => {
          const { logProbs, state: next } = model.step(previous, state);
          let banned = applyBans(logProbs, histories, step, options);
          if (step === options.maxLength) banned = onlyEnd(banned);
          const total = tf.add(banned, tf.tensor2d(scores, [width, 1]));
          const best = tf.topk(tf.reshape(total, [1, width * vocab]), candidates, true);
          return { next, values: best.values, indices: best.indices };
        },
        (r) => [...model.stateTensors(r.next), r.values, r.indices],
      );
      const values = out.values.dataSync();
      const indices = out.indices.dataSync();
      out.values.dispose();
      out.indices.dispose();

      const source = new Int32Array(width);
      const words = new Int32Array(width).fill(END_ID);
      const nextScores = new Float32Array(width).fill(BANNED);
      const nextHistories: number[][] = Array.from({ length: width }, () => []);
      let live = 0;
      for (let rank = 0; rank < candidates && live < width; rank++) {
        const score = values[rank]!;
        if (score <= BANNED / 2) break;
        const from = Math.floor(indices[rank]! / vocab);
        const word = indices[rank]! % vocab;
        if (word === END_ID) {
          if (rank < width) finished.push({ tokens: histories[from]!, logProb: score });
          continue;
        }
        source[live] = from;
        words[live] = word;
        nextScores[live] = score;
        nextHistories[live] = [...histories[from]!, word];
        live += 1;
      }
      const sourceTensor = tf.tensor1d(source, 'int32');
      const reordered = tidyKeep(() => model.selectRows(out.next, sourceTensor, { imageRowsUnchanged: true }), (s) => model.stateTensors(s));
      sourceTensor.dispose();
      releaseState(model, state, reordered);
      releaseState(model, out.next, reordered);
      state = reordered;
      previous.dispose();
      previous = tf.tensor1d(words, 'int32');
      scores = nextScores;
      histories = nextHistories;
      if (live === 0) break;
    }
  } finally {
    releaseState(model, state, null);
    previous.dispose();
  }
  return finished
    .map((h) => ({ ...h, score: h.logProb / Math.max(1, h.tokens.length + 1) ** options.lengthPenalty }))
    .sort((a, b) => b.score - a.score);
}
