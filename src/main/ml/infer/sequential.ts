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
import { releaseState, rowsOf, tidyKeep } from './stepping';
import type { DecodeConstraints, DecodedCaption, SampleOptions, StepDecoder } from './types';

type Chooser = (banned: tf.Tensor2D, step: number) => tf.Tensor1D;

export function greedyDecode<S>(model: StepDecoder<S>, features: DecoderFeatures, constraints: DecodeConstraints): DecodedCaption[] {
  return sequentialDecode(model, features, constraints, (banned) => tf.argMax(banned, 1) as tf.Tensor1D);
}

export function sampleDecode<S>(model: StepDecoder<S>, features: DecoderFeatures, options: SampleOptions): DecodedCaption[] {
  const rng = new Rng(options.seed);
  return sequentialDecode(model, features, options, (banned) => sampleWords(banned, options, rng.seed()));
}

function sequentialDecode<S>(model: StepDecoder<S>, features: DecoderFeatures, constraints: DecodeConstraints, choose: Chooser): DecodedCaption[] {
  const rows = rowsOf(features);
  const histories: number[][] = Array.from({ length: rows }, () => []);
  const logProbs: number[][] = Array.from({ length: rows }, () => []);
  const attention: number[][][] = Array.from({ length: rows }, () => []);
  const finished = new Array<boolean>(rows).fill(false);
  let state = tidyKeep(() => model.initialState(features, { beams: 1, steps: constraints.maxLength + 1 }), (s) => model.stateTensors(s));
  let previous = tf.fill([rows], START_ID, 'int32') as tf.Tensor1D;
  try {
    for (let step = 0; step <= constraints.maxLength && finished.some((done) => !done); step++) {
      const out = tidyKeep(
        () => {
          const { logProbs: stepLogProbs, state: next, attention: weights } = model.step(previous, state);
          let banned = applyBans(stepLogProbs, histories, step, constraints);
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
      for (let row = 0; row < rows; row++) {
        if (finished[row]) continue;
        const word = words[row]!;
        logProbs[row]!.push(wordLogProbs[row]!);
        if (weights) attention[row]!.push(weights[row]!);
        if (word === END_ID) finished[row] = true;
        else histories[row]!.push(word);
      }
      releaseState(model, state, out.next);
      state = out.next;
      previous.dispose();
      previous = out.chosen;
      out.chosenLogProb.dispose();
      out.weights?.dispose();
    }
  } finally {
    releaseState(model, state, null);
    previous.dispose();
  }
  return histories.map((tokens, row) => {
    const lps = logProbs[row]!;
    const total = lps.reduce((a, b) => a + b, 0);
    return {
      tokens,
      tokenLogProbs: lps,
      logProb: total,
      score: total,
      ...(attention[row]!.length > 0 ? { attention: attention[row]! } : {}),
    };
  });
}

/** Every word but <end> banned. */
export function onlyEnd(logProbs: tf.Tensor2D): tf.Tensor2D {
  const vocab = logProbs.shape[1];
  const mask = new Float32Array(vocab).fill(BANNED);
  mask[END_ID] = 0;
  return tf.add(logProbs, tf.tensor1d(mask)) as tf.Tensor2D;
}
