/**
 * Batched beam search. All images and all their beams advance in one
 * forward pass per step (rows = images × width). Each step takes the 2·width
 * best continuations of every image (as fairseq does), so that after setting
 * aside hypotheses that end there are still `width` live ones. A hypothesis
 * ending with <end> is accepted only from the top `width` candidates; an
 * image is done once it has `width` finished hypotheses. The best one by
 * Σ log p / length^lengthPenalty is returned. Width 1 is exactly greedy.
 */
import * as tf from '@tensorflow/tfjs';
import { END_ID, START_ID } from '../../lib/data/text/vocabulary';
import type { DecoderFeatures } from '../model/decoder';
import { applyBans, BANNED } from './constraints';
import { onlyEnd } from './sequential';
import { releaseState, rowsOf, tidyKeep } from './stepping';
import type { BeamOptions, DecodedCaption, StepDecoder } from './types';

interface Hypothesis {
  tokens: number[];
  logProbs: number[];
  attention: number[][];
  logProb: number;
}

const DEAD = BANNED;

export function beamSearch<S>(model: StepDecoder<S>, features: DecoderFeatures, options: BeamOptions): DecodedCaption[] {
  const images = rowsOf(features);
  const width = Math.max(1, Math.floor(options.beamWidth));
  const rows = images * width;
  const vocab = model.vocabSize;
  const candidates = Math.min(2 * width, width * vocab);

  // Live beams, one per row: row = image * width + beam.
  let histories: number[][] = Array.from({ length: rows }, () => []);
  let beamLogProbs: number[][] = Array.from({ length: rows }, () => []);
  let beamAttention: number[][][] = Array.from({ length: rows }, () => []);
  // Only the first beam of each image is live at the start, so the first step does not pick the same word width times.
  let scores = Float32Array.from({ length: rows }, (_, row) => (row % width === 0 ? 0 : DEAD));
  const finished: Hypothesis[][] = Array.from({ length: images }, () => []);
  const done = new Array<boolean>(images).fill(false);

  let state = tidyKeep(
    () => {
      const initial = model.initialState(features);
      const expand = tf.tensor1d(Int32Array.from({ length: rows }, (_, row) => Math.floor(row / width)), 'int32');
      return model.selectRows(initial, expand);
    },
    (s) => model.stateTensors(s),
  );
  let previous = tf.fill([rows], START_ID, 'int32') as tf.Tensor1D;

  try {
    for (let step = 0; step <= options.maxLength && done.some((d) => !d); step++) {
      const out = tidyKeep(
        () => {
          const { logProbs, state: next, attention } = model.step(previous, state);
          let banned = applyBans(logProbs, histories, step, options);
          if (step === options.maxLength) banned = onlyEnd(banned);
          const total = tf.add(banned, tf.tensor2d(scores, [rows, 1]));
          const best = tf.topk(tf.reshape(total, [images, width * vocab]), candidates, true);
          return { next, values: best.values, indices: best.indices, attention };
        },
        (r) => [...model.stateTensors(r.next), r.values, r.indices, ...(r.attention ? [r.attention] : [])],
      );
      const values = out.values.dataSync();
      const indices = out.indices.dataSync();
      const weights = out.attention ? (out.attention.arraySync() as number[][]) : null;
      out.values.dispose();
      out.indices.dispose();
      out.attention?.dispose();

      const source = new Int32Array(rows);
      const words = new Int32Array(rows).fill(END_ID);
      const nextScores = new Float32Array(rows).fill(DEAD);
      const nextHistories: number[][] = new Array(rows);
      const nextLogProbs: number[][] = new Array(rows);
      const nextAttention: number[][][] = new Array(rows);

      for (let image = 0; image < images; image++) {
        let live = 0;
        if (!done[image]) {
          for (let rank = 0; rank < candidates && live < width; rank++) {
            const score = values[image * candidates + rank]!;
            if (score <= DEAD / 2) break;
            const flat = indices[image * candidates + rank]!;
            const from = image * width + Math.floor(flat / vocab);
            const word = flat % vocab;
            const wordLogProb = score - scores[from]!;
            const attentionSoFar = weights ? [...beamAttention[from]!, weights[from]!] : beamAttention[from]!;
            if (word === END_ID) {
              if (rank < width) {
                finished[image]!.push({
                  tokens: histories[from]!,
                  logProbs: [...beamLogProbs[from]!, wordLogProb],
                  attention: attentionSoFar,
                  logProb: score,
                });
              }
              continue;
            }
            const row = image * width + live;
            source[row] = from;
            words[row] = word;
            nextScores[row] = score;
            nextHistories[row] = [...histories[from]!, word];
            nextLogProbs[row] = [...beamLogProbs[from]!, wordLogProb];
            nextAttention[row] = attentionSoFar;
            live += 1;
          }
          if (finished[image]!.length >= width) done[image] = true;
        }
        // Rows without a live beam keep a dead placeholder from their own image.
        for (let beam = live; beam < width; beam++) {
          const row = image * width + beam;
          source[row] = image * width;
          nextHistories[row] = [];
          nextLogProbs[row] = [];
          nextAttention[row] = [];
        }
      }

      const sourceTensor = tf.tensor1d(source, 'int32');
      const reordered = tidyKeep(
        () => model.selectRows(out.next, sourceTensor, { imageRowsUnchanged: true }),
        (s) => model.stateTensors(s),
      );
      sourceTensor.dispose();
      releaseState(model, state, reordered);
      releaseState(model, out.next, reordered);
      state = reordered;
      previous.dispose();
      previous = tf.tensor1d(words, 'int32');
      scores = nextScores;
      histories = nextHistories;
      beamLogProbs = nextLogProbs;
      beamAttention = nextAttention;
    }
  } finally {
    releaseState(model, state, null);
    previous.dispose();
  }

  return finished.map((hypotheses, image) => {
    const best = pickBest(hypotheses, options.lengthPenalty);
    if (!best) throw new Error(`Beam search ended without a caption for image ${image}.`);
    return {
      tokens: best.tokens,
      tokenLogProbs: best.logProbs,
      logProb: best.logProb,
      score: normalized(best, options.lengthPenalty),
      ...(best.attention.length > 0 ? { attention: best.attention } : {}),
    };
  });
}

/** Σ log p / length^α, length counting the closing <end>. */
function normalized(hypothesis: Hypothesis, lengthPenalty: number): number {
  return hypothesis.logProb / Math.max(1, hypothesis.logProbs.length) ** lengthPenalty;
}

function pickBest(hypotheses: Hypothesis[], lengthPenalty: number): Hypothesis | null {
  let best: Hypothesis | null = null;
  for (const hypothesis of hypotheses) {
    if (!best || normalized(hypothesis, lengthPenalty) > normalized(best, lengthPenalty)) best = hypothesis;
  }
  return best;
}
