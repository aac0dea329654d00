/**
 * Greedy decoding and sampling: one hypothesis per image, every image of the
 * batch advanced by one forward pass per step. They differ only in how the
 * next word is chosen (argmax, or a draw after temperature/top-k/top-p).
 */
import * as tf from '@tensorflow/tfjs';
import { END_ID, START_ID } from '../../lib/data/text/vocabulary';
import type { DecoderFeatures } from '../model/decoder';
import { Rng } from '../model/rng';
import { applyBans, BANNED } from './constraints';
import { sampleWords } from './sampling';
import { alignedSlots, releaseState, rowPacket, rowsOf, tidyKeep } from './stepping';
import type { DecodeConstraints, DecodedCaption, SampleOptions, StepDecoder } from './types';

type Chooser = (banned: tf.Tensor2D, step: number) => tf.Tensor1D;

/**
 * Greedy decoding also drops the rows of finished captions in whole packets
 * where the model's rows do not depend on the batch (see `rowPacket`), as
 * beam search drops finished images. Not on native TensorFlow, where beam
 * search drops them freely: greedy's light steps did not gain from it
 * (measured on trained Shapes packages, 16 and 64 images: a merge model
 * 22% slower at 16, an attention model within 7% either way). Sampling
 * keeps every row, since its draws depend on the batch's shape.
 */
export function greedyDecode<S>(model: StepDecoder<S>, features: DecoderFeatures, constraints: DecodeConstraints): DecodedCaption[] {
  return sequentialDecode(model, features, constraints, (banned) => tf.argMax(banned, 1) as tf.Tensor1D, true);
}

export function sampleDecode<S>(model: StepDecoder<S>, features: DecoderFeatures, options: SampleOptions): DecodedCaption[] {
  const rng = new Rng(options.seed);
  return sequentialDecode(model, features, options, (banned) => sampleWords(banned, options, rng.seed()), false);
}

function sequentialDecode<S>(
  model: StepDecoder<S>,
  features: DecoderFeatures,
  constraints: DecodeConstraints,
  choose: Chooser,
  dropFinished: boolean,
): DecodedCaption[] {
  const images = rowsOf(features);
  const histories: number[][] = Array.from({ length: images }, () => []);
  const logProbs: number[][] = Array.from({ length: images }, () => []);
  const attention: number[][][] = Array.from({ length: images }, () => []);
  const finished = new Array<boolean>(images).fill(false);
  const packet = dropFinished ? rowPacket(model, images, { unpadded: false }) : null;
  // The image of each row of the batch (null: padding, whose results are not used).
  let rowImages: Array<number | null> = Array.from({ length: images }, (_, image) => image);
  let state = tidyKeep(() => model.initialState(features, { beams: 1, steps: constraints.maxLength + 1 }), (s) => model.stateTensors(s));
  let previous = tf.fill([images], START_ID, 'int32') as tf.Tensor1D;
  try {
    for (let step = 0; step <= constraints.maxLength && finished.some((done) => !done); step++) {
      const rowHistories = rowImages.map((image) => (image === null ? [] : histories[image]!));
      const out = tidyKeep(
        () => {
          const { logProbs: stepLogProbs, state: next, attention: weights } = model.step(previous, state);
          let banned = applyBans(stepLogProbs, rowHistories, step, constraints);
          // At the length limit <end> is the only word left.
          if (step === constraints.maxLength) banned = onlyEnd(banned);
          const chosen = choose(banned, step);
          // A one-hot product rather than a batched gather: the wasm backend's gather with batchDims is unreliable.
          const chosenLogProb = tf.sum(tf.mul(stepLogProbs, tf.cast(tf.oneHot(chosen, stepLogProbs.shape[1]), 'float32')), 1);
          return { next, chosen, chosenLogProb, weights };
        },
        (r) => [...model.stateTensors(r.next), r.chosen, r.chosenLogProb, ...(r.weights ? [r.weights] : [])],
      );
      const words = out.chosen.dataSync();
      const wordLogProbs = out.chosenLogProb.dataSync();
      const weights = out.weights ? (out.weights.arraySync() as number[][]) : null;
      rowImages.forEach((image, row) => {
        if (image === null || finished[image]) return;
        const word = words[row]!;
        logProbs[image]!.push(wordLogProbs[row]!);
        if (weights) attention[image]!.push(weights[row]!);
        if (word === END_ID) finished[image] = true;
        else histories[image]!.push(word);
      });
      releaseState(model, state, out.next);
      state = out.next;
      previous.dispose();
      previous = out.chosen;
      out.chosenLogProb.dispose();
      out.weights?.dispose();
      if (packet !== null) [state, previous, rowImages] = dropFinishedRows(model, state, previous, rowImages, finished, packet);
    }
  } finally {
    releaseState(model, state, null);
    previous.dispose();
  }
  return histories.map((tokens, image) => {
    const lps = logProbs[image]!;
    const total = lps.reduce((a, b) => a + b, 0);
    return {
      tokens,
      tokenLogProbs: lps,
      logProb: total,
      score: total,
      ...(attention[image]!.length > 0 ? { attention: attention[image]! } : {}),
    };
  });
}

/**
 * The batch without the rows of finished captions, when that saves whole
 * packets of rows (padded with copies of a live row, marked null); else as it is.
 */
function dropFinishedRows<S>(
  model: StepDecoder<S>,
  state: S,
  previous: tf.Tensor1D,
  rowImages: ReadonlyArray<number | null>,
  finished: readonly boolean[],
  packet: number,
): [S, tf.Tensor1D, Array<number | null>] {
  const live = rowImages.flatMap((image, row) => (image !== null && !finished[image] ? [row] : []));
  const rows = alignedSlots(live.length, 1, packet);
  if (live.length === 0 || rows >= rowImages.length) return [state, previous, [...rowImages]];
  const kept = [...live, ...new Array<number>(rows - live.length).fill(live[0]!)];
  const selected = tidyKeep(
    () => {
      const indices = tf.tensor1d(kept, 'int32');
      return { state: model.selectRows(state, indices, { imageRowsUnchanged: true, imageRows: indices }), previous: tf.gather(previous, indices) as tf.Tensor1D };
    },
    (r) => [...model.stateTensors(r.state), r.previous],
  );
  releaseState(model, state, selected.state);
  previous.dispose();
  return [selected.state, selected.previous, kept.map((row, i) => (i < live.length ? rowImages[row]! : null))];
}

/** Every word but <end> banned. */
export function onlyEnd(logProbs: tf.Tensor2D): tf.Tensor2D {
  const vocab = logProbs.shape[1];
  const mask = new Float32Array(vocab).fill(BANNED);
  mask[END_ID] = 0;
  return tf.add(logProbs, tf.tensor1d(mask)) as tf.Tensor2D;
}
