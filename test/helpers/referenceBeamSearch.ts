/**
 * The batched beam search as it was before it stepped one row per image at
 * the first step and dropped the rows of finished images: every image keeps
 * `width` rows to the end, the first step runs width rows per image with all
 * but one dead. Kept verbatim as the reference the decoding tests hold
 * `beamSearch` to: the same captions, log-probabilities, scores and
 * attention, to the bit.
 */
import * as tf from '@tensorflow/tfjs';
import { END_ID, PAD_ID, START_ID } from '../../src/main/lib/data/text/vocabulary';
import type { DecoderFeatures } from '../../src/main/ml/model/decoder';
import { BANNED, repeatedNgramBans } from '../../src/main/ml/infer/constraints';
import { releaseState, rowsOf, tidyKeep } from '../../src/main/ml/infer/stepping';
import type { BeamOptions, DecodedCaption, StepDecoder } from '../../src/main/ml/infer/types';

interface Hypothesis {
  tokens: number[];
  logProbs: number[];
  attention: number[][];
  logProb: number;
}

const DEAD = BANNED;

export function referenceBeamSearch<S>(model: StepDecoder<S>, features: DecoderFeatures, options: BeamOptions): DecodedCaption[] {
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
      const initial = model.initialState(features, { beams: width, steps: options.maxLength + 1 });
      const expand = tf.tensor1d(Int32Array.from({ length: rows }, (_, row) => Math.floor(row / width)), 'int32');
      // Beams share their image's tensors (for attention, the grid): rows only move within an image.
      return model.selectRows(initial, expand, { imageRowsUnchanged: true });
    },
    (s) => model.stateTensors(s),
  );
  let previous = tf.fill([rows], START_ID, 'int32') as tf.Tensor1D;

  try {
    for (let step = 0; step <= options.maxLength && done.some((d) => !d); step++) {
      const bans = bannedWords(histories, step, options);
      const out = tidyKeep(
        () => scoreCandidates(model, previous, state, step === options.maxLength ? null : Math.min(vocab, candidates + bans.most)),
        (r) => [...model.stateTensors(r.next), r.values, r.words, ...(r.attention ? [r.attention] : [])],
      );
      const values = out.values.dataSync();
      const wordIds = out.words.dataSync();
      const perRow = out.values.shape[1]!;
      const weights = out.attention ? out.attention.dataSync() : null;
      const regions = out.attention ? out.attention.shape[1]! : 0;
      out.values.dispose();
      out.words.dispose();
      out.attention?.dispose();
      const weightsOf = (row: number) => (weights ? Array.from(weights.subarray(row * regions, (row + 1) * regions)) : null);

      const source = new Int32Array(rows);
      const words = new Int32Array(rows).fill(END_ID);
      const nextScores = new Float32Array(rows).fill(DEAD);
      const nextHistories: number[][] = new Array(rows);
      const nextLogProbs: number[][] = new Array(rows);
      const nextAttention: number[][][] = new Array(rows);

      for (let image = 0; image < images; image++) {
        let live = 0;
        if (!done[image]) {
          const ranked = rankCandidates(image, width, vocab, perRow, values, wordIds, scores, bans.perRow).slice(0, candidates);
          for (let rank = 0; rank < ranked.length && live < width; rank++) {
            const { score, from, word } = ranked[rank]!;
            const wordLogProb = score - scores[from]!;
            const rowWeights = weightsOf(from);
            const attentionSoFar = rowWeights ? [...beamAttention[from]!, rowWeights] : beamAttention[from]!;
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

interface Candidate {
  /** Σ log p of the hypothesis with this word (float32, as the tensors hold it). */
  score: number;
  /** The row (beam) it extends, and the word. */
  from: number;
  word: number;
  /** beam · V + word: the order among equal scores, as a top-k over an image's beams × vocabulary gives. */
  order: number;
}

/**
 * One step's scores for every row: the model's logits, each row's log-sum-exp,
 * and the `perRow` highest logits with their words (or, at the length limit,
 * only <end>). log p = (x − max) − log Σ exp(x − max), the very operations of
 * tf.logSoftmax, so the values are the same numbers; but only a few per row
 * are formed, not a [rows, V] log-softmax with bans added.
 */
function scoreCandidates<S>(model: StepDecoder<S>, previous: tf.Tensor1D, state: S, perRow: number | null) {
  const { scores, next, attention } = stepScores(model, previous, state);
  const [rows] = scores.shape;
  const rowMax = tf.max(scores, 1, true);
  const logSumExp = tf.log(tf.sum(tf.exp(tf.sub(scores, rowMax)), 1, true));
  const toLogProb = (x: tf.Tensor) => tf.sub(tf.sub(x, rowMax), logSumExp) as tf.Tensor2D;
  if (perRow === null) {
    const endColumn = tf.slice(scores, [0, END_ID], [rows, 1]);
    return { next, values: toLogProb(endColumn), words: tf.fill([rows, 1], END_ID, 'int32') as tf.Tensor2D, attention };
  }
  const top = tf.topk(scores, perRow, true);
  return { next, values: toLogProb(top.values), words: top.indices as tf.Tensor2D, attention };
}

/** Logits from `stepLogits` when the model has it; else log-probabilities, whose log-sum-exp is 0. */
function stepScores<S>(model: StepDecoder<S>, previous: tf.Tensor1D, state: S): { scores: tf.Tensor2D; next: S; attention?: tf.Tensor2D } {
  if (model.stepLogits) {
    const out = model.stepLogits(previous, state);
    return { scores: out.logits, next: out.state, ...(out.attention ? { attention: out.attention } : {}) };
  }
  const out = model.step(previous, state);
  return { scores: out.logProbs, next: out.state, ...(out.attention ? { attention: out.attention } : {}) };
}

/** The words each row may not take this step (see constraints.ts), and the most any row has. */
function bannedWords(histories: readonly number[][], step: number, options: BeamOptions): { perRow: Array<Set<number>>; most: number } {
  const always = [PAD_ID, START_ID, ...(step < options.minLength ? [END_ID] : [])];
  const perRow = histories.map((history) => new Set([...always, ...repeatedNgramBans(history, options.noRepeatNgramSize)]));
  return { perRow, most: Math.max(0, ...perRow.map((set) => set.size)) };
}

/**
 * An image's candidates, best first: every live beam's top words that are
 * not banned, scored as Σ log p in float32. Each row's list holds its best
 * `candidates + banned` words, so no allowed word that could rank among the
 * image's best `candidates` is missing.
 */
function rankCandidates(
  image: number,
  width: number,
  vocab: number,
  perRow: number,
  values: Float32Array | Int32Array | Uint8Array,
  words: Float32Array | Int32Array | Uint8Array,
  scores: Float32Array,
  bans: ReadonlyArray<Set<number>>,
): Candidate[] {
  const out: Candidate[] = [];
  for (let beam = 0; beam < width; beam++) {
    const from = image * width + beam;
    if (scores[from]! <= DEAD / 2) continue;
    for (let k = 0; k < perRow; k++) {
      const word = words[from * perRow + k]!;
      if (bans[from]!.has(word)) continue;
      out.push({ score: Math.fround(values[from * perRow + k]! + scores[from]!), from, word, order: beam * vocab + word });
    }
  }
  return out.sort((a, b) => b.score - a.score || a.order - b.order);
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
