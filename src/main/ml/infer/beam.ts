/**
 * Batched beam search. All images and all their beams advance in one
 * forward pass per step (rows = images × width). Each step takes the 2·width
 * best continuations of every image (as fairseq does), so that after setting
 * aside hypotheses that end there are still `width` live ones. A hypothesis
 * ending with <end> is accepted only from the top `width` candidates; an
 * image is done once it has `width` finished hypotheses, or once none of its
 * live beams can score better than its best finished one. The best one by
 * Σ log p / length^lengthPenalty is returned. Width 1 is exactly greedy.
 *
 * Only the rows that can still matter are stepped: the first step runs one
 * row per image (every beam of an image starts from the same <start>, and
 * only one of them is live), and an image that is done leaves the batch,
 * its state rows and its image tensors with it. Where a model's rows do not
 * depend on one another (`rowIndependentSteps`), the results are those of
 * stepping every image's `width` rows to the end
 * (test/helpers/referenceBeamSearch.ts, which the tests hold this to, bit
 * for bit); where they already depend on the batch in the last bits
 * (`batchDependentSteps`: native TensorFlow), the results are those of the
 * smaller batches the search steps (the tests hold them to the reference
 * within float rounding).
 */
import * as tf from '@tensorflow/tfjs';
import { END_ID, PAD_ID, START_ID } from '../../lib/data/text/vocabulary';
import type { DecoderFeatures } from '../model/decoder';
import { BANNED, repeatedNgramBans } from './constraints';
import { columnsOf, rowTopK } from './rowTopK';
import { alignedSlots, releaseState, rowPacket, rowsOf, tidyKeep } from './stepping';
import type { BeamOptions, DecodedCaption, StepDecoder } from './types';

/** A finished caption of the search: its words (no <start> or <end>), each word's log p (<end>'s last), and attention per step. */
export interface Hypothesis {
  tokens: number[];
  logProbs: number[];
  attention: number[][];
  logProb: number;
}

/** One row of a step: a live beam, or a dead placeholder that keeps an image's rows at `width`. */
interface Beam {
  tokens: number[];
  logProbs: number[];
  attention: number[][];
  /** Σ log p so far (float32), DEAD for a placeholder. */
  score: number;
}

const DEAD = BANNED;

const placeholder = (): Beam => ({ tokens: [], logProbs: [], attention: [], score: DEAD });

export function beamSearch<S>(model: StepDecoder<S>, features: DecoderFeatures, options: BeamOptions): DecodedCaption[] {
  return finishedHypotheses(model, features, options).map((hypotheses, image) => {
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

/**
 * Every finished hypothesis of each image's search, in the order they were
 * found. `exhaustive` searches on until an image has `width` of them, even
 * once none of its live beams could beat its best: callers that rank the
 * hypotheses by another score (the alternatives an explanation lists, mirror
 * consensus) need the ones beam search itself would not return.
 */
export function finishedHypotheses<S>(model: StepDecoder<S>, features: DecoderFeatures, options: BeamOptions, { exhaustive = false } = {}): Hypothesis[][] {
  const images = rowsOf(features);
  const width = Math.max(1, Math.floor(options.beamWidth));
  const vocab = model.vocabSize;
  const candidates = Math.min(2 * width, width * vocab);
  const finished: Hypothesis[][] = Array.from({ length: images }, () => []);
  const done = new Array<boolean>(images).fill(false);
  const packet = rowPacket(model, images * width, { unpadded: true });

  // Slots in order, each an image (null: padding) with `rowsPerSlot` consecutive rows, its beams.
  // The first step needs one row per image: only the first beam is live (so that it does not pick the same word width times).
  let rowsPerSlot = packet !== null && alignedSlots(images, 1, packet) < images * width ? 1 : width;
  let slots: Array<number | null> = Array.from({ length: packet !== null ? alignedSlots(images, rowsPerSlot, packet) : images }, (_, slot) =>
    slot < images ? slot : null,
  );
  let beams: Beam[] = slots.flatMap((image) =>
    Array.from({ length: rowsPerSlot }, (_, beam) => (image !== null && beam === 0 ? { tokens: [], logProbs: [], attention: [], score: 0 } : placeholder())),
  );

  // null once every image is done.
  let state: S | null = tidyKeep(
    () => {
      const initial = model.initialState(features, { beams: width, steps: options.maxLength + 1 });
      if (rowsPerSlot === 1 && slots.length === images) return initial;
      // Beams share their image's tensors (for attention, the grid): rows only move within an image.
      const rows = tf.tensor1d(
        beams.map((_, row) => slots[Math.floor(row / rowsPerSlot)] ?? 0),
        'int32',
      );
      // Padding slots (dead rows only) take the first image's tensors.
      const imageRows = slots.length === images ? {} : { imageRows: tf.tensor1d(slots.map((image) => image ?? 0), 'int32') };
      return model.selectRows(initial, rows, { imageRowsUnchanged: true, ...imageRows });
    },
    (s) => model.stateTensors(s),
  );
  let previous = tf.fill([beams.length], START_ID, 'int32') as tf.Tensor1D;

  try {
    for (let step = 0; step <= options.maxLength && state !== null && done.some((d) => !d); step++) {
      const current: S = state;
      const bans = bannedWords(beams, step, options);
      const out = tidyKeep(
        () => scoreCandidates(model, previous, current, step === options.maxLength ? null : Math.min(vocab, candidates + bans.most)),
        (r) => [...model.stateTensors(r.next), r.values, r.positions, ...(r.blocks ? [r.blocks] : []), ...(r.attention ? [r.attention] : [])],
      );
      const values = out.values.dataSync();
      const perRow = out.values.shape[1]!;
      const wordIds = columnsOf(out.positions.dataSync(), out.blocks ? out.blocks.dataSync() : null, perRow, out.blockSize);
      const weights = out.attention ? out.attention.dataSync() : null;
      const regions = out.attention ? out.attention.shape[1]! : 0;
      out.values.dispose();
      out.positions.dispose();
      out.blocks?.dispose();
      out.attention?.dispose();
      const weightsOf = (row: number) => (weights ? Array.from(weights.subarray(row * regions, (row + 1) * regions)) : null);

      // The next step's slots (each with `width` rows taken from this step's rows, `source`) and where their image tensors are now.
      const nextSlots: Array<number | null> = [];
      const imageRows: number[] = [];
      const source: number[] = [];
      const words: number[] = [];
      const nextBeams: Beam[] = [];
      const addSlot = (image: number | null, slot: number, chosen: ReadonlyArray<{ from: number; word: number; beam: Beam }>) => {
        nextSlots.push(image);
        imageRows.push(slot);
        for (const { from, word, beam } of chosen) {
          source.push(from);
          words.push(word);
          nextBeams.push(beam);
        }
        // Rows without a live beam keep a dead placeholder from their own image.
        for (let beam = chosen.length; beam < width; beam++) {
          source.push(slot * rowsPerSlot);
          words.push(END_ID);
          nextBeams.push(placeholder());
        }
      };

      slots.forEach((image, slot) => {
        const chosen: Array<{ from: number; word: number; beam: Beam }> = [];
        if (image !== null && !done[image]) {
          const ranked = rankCandidates(slot * rowsPerSlot, rowsPerSlot, vocab, perRow, values, wordIds, beams, bans.perRow, candidates);
          for (let rank = 0; rank < ranked.length && chosen.length < width; rank++) {
            const { score, from, word } = ranked[rank]!;
            const parent = beams[from]!;
            const wordLogProb = score - parent.score;
            const rowWeights = weightsOf(from);
            const attentionSoFar = rowWeights ? [...parent.attention, rowWeights] : parent.attention;
            if (word === END_ID) {
              if (rank < width) {
                finished[image]!.push({ tokens: parent.tokens, logProbs: [...parent.logProbs, wordLogProb], attention: attentionSoFar, logProb: score });
              }
              continue;
            }
            chosen.push({ from, word, beam: { tokens: [...parent.tokens, word], logProbs: [...parent.logProbs, wordLogProb], attention: attentionSoFar, score } });
          }
          if (finished[image]!.length >= width || (!exhaustive && cannotImprove(finished[image]!, chosen, options))) done[image] = true;
        }
        // A done image (or padding) keeps its slot, with dead rows, only where rows are not rearranged.
        if (image !== null && !done[image]) addSlot(image, slot, chosen);
        else if (packet === null) addSlot(image, slot, []);
      });
      if (packet !== null) {
        const live = nextSlots.length;
        for (let slot = live; slot < (live === 0 ? 0 : alignedSlots(live, width, packet)); slot++) addSlot(null, 0, []);
      }

      const stepped = out.next;
      const reordered: S | null =
        done.every(Boolean) || step === options.maxLength
          ? null
          : tidyKeep(
              () => {
                const moved = imageRows.length !== slots.length || imageRows.some((row, slot) => row !== slot);
                return model.selectRows(stepped, tf.tensor1d(source, 'int32'), {
                  imageRowsUnchanged: true,
                  ...(moved ? { imageRows: tf.tensor1d(imageRows, 'int32') } : {}),
                });
              },
              (s) => model.stateTensors(s),
            );
      releaseState(model, current, reordered);
      releaseState(model, stepped, reordered);
      state = reordered;
      previous.dispose();
      previous = tf.tensor1d(words, 'int32');
      slots = nextSlots;
      rowsPerSlot = width;
      beams = nextBeams;
    }
  } finally {
    if (state) releaseState(model, state, null);
    previous.dispose();
  }

  return finished;
}

/**
 * Whether none of an image's live beams can end better than its best finished
 * hypothesis. A word's log p is at most 0, so a beam's Σ log p only falls;
 * divided by length^α (α ≥ 0) it is at most Σ log p / (maxLength + 1)^α, the
 * longest caption's divisor. If that is below the best finished score for
 * every live beam, stepping on could only add hypotheses that lose to it.
 */
function cannotImprove(finished: readonly Hypothesis[], chosen: ReadonlyArray<{ beam: Beam }>, options: BeamOptions): boolean {
  if (options.lengthPenalty < 0) return false;
  const best = pickBest(finished, options.lengthPenalty);
  if (!best) return false;
  const bestScore = normalized(best, options.lengthPenalty);
  const longest = (options.maxLength + 1) ** options.lengthPenalty;
  return chosen.every(({ beam }) => beam.score / longest < bestScore);
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
  // The top words and the row maxima together (rowTopK.ts): the same selection as a top-k over the whole row.
  const top = perRow === null ? null : rowTopK(scores, perRow);
  const rowMax = top ? top.max : tf.max(scores, 1, true);
  const logSumExp = tf.log(tf.sum(tf.exp(tf.sub(scores, rowMax)), 1, true));
  const toLogProb = (x: tf.Tensor) => tf.sub(tf.sub(x, rowMax), logSumExp) as tf.Tensor2D;
  if (!top) {
    const endColumn = tf.slice(scores, [0, END_ID], [rows, 1]);
    return { next, values: toLogProb(endColumn), positions: tf.fill([rows, 1], END_ID, 'int32') as tf.Tensor2D, blocks: null, blockSize: 1, attention };
  }
  return { next, values: toLogProb(top.values), positions: top.positions, blocks: top.blocks, blockSize: top.blockSize, attention };
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
function bannedWords(beams: readonly Beam[], step: number, options: BeamOptions): { perRow: Array<Set<number>>; most: number } {
  const always = [PAD_ID, START_ID, ...(step < options.minLength ? [END_ID] : [])];
  const perRow = beams.map((beam) => new Set([...always, ...repeatedNgramBans(beam.tokens, options.noRepeatNgramSize)]));
  return { perRow, most: Math.max(0, ...perRow.map((set) => set.size)) };
}

/**
 * An image's `limit` best candidates, best first: every live beam's top words
 * that are not banned, scored as Σ log p in float32. Each row's list holds its
 * best `limit + banned` words, so no allowed word that could rank among the
 * image's best `limit` is missing. The image's rows are `first` …. Higher
 * score first, then lower beam · V + word; kept by insertion (a few dozen
 * candidates), the same order a sort of all of them gives.
 */
function rankCandidates(
  first: number,
  rows: number,
  vocab: number,
  perRow: number,
  values: Float32Array | Int32Array | Uint8Array,
  words: Int32Array,
  beams: readonly Beam[],
  bans: ReadonlyArray<Set<number>>,
  limit: number,
): Candidate[] {
  const best: Candidate[] = [];
  for (let beam = 0; beam < rows; beam++) {
    const from = first + beam;
    const beamScore = beams[from]!.score;
    if (beamScore <= DEAD / 2) continue;
    for (let k = 0; k < perRow; k++) {
      const word = words[from * perRow + k]!;
      if (bans[from]!.has(word)) continue;
      const score = Math.fround(values[from * perRow + k]! + beamScore);
      const order = beam * vocab + word;
      let at = best.length;
      while (at > 0 && (score > best[at - 1]!.score || (score === best[at - 1]!.score && order < best[at - 1]!.order))) at--;
      if (at >= limit) continue;
      best.splice(at, 0, { score, from, word, order });
      if (best.length > limit) best.pop();
    }
  }
  return best;
}

/** Σ log p / length^α, length counting the closing <end>. */
function normalized(hypothesis: Hypothesis, lengthPenalty: number): number {
  return hypothesis.logProb / Math.max(1, hypothesis.logProbs.length) ** lengthPenalty;
}

function pickBest(hypotheses: readonly Hypothesis[], lengthPenalty: number): Hypothesis | null {
  let best: Hypothesis | null = null;
  for (const hypothesis of hypotheses) {
    if (!best || normalized(hypothesis, lengthPenalty) > normalized(best, lengthPenalty)) best = hypothesis;
  }
  return best;
}
