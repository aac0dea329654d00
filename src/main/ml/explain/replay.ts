/**
 * Re-running the decoder along a caption it produced, one step at a time,
 * with the same step function decoding uses (`StepDecoder.step`). The
 * weights it returns for each word are the attention the decoder used to
 * predict that word, and the log-probabilities are the ones decoding saw.
 */
import * as tf from '@tensorflow/tfjs';
import { END_ID, START_ID } from '../../lib/data/text/vocabulary';
import type { DecoderFeatures } from '../model/decoder';
import { releaseState, rowsOf, tidyKeep } from '../infer/stepping';
import type { StepDecoder } from '../infer/types';

export interface ReplayedCaption {
  /** log p of each word, then of the closing <end>. */
  tokenLogProbs: number[];
  /** Attention models: the weights over regions for each word and <end>; null otherwise. */
  attention: number[][] | null;
}

/** Replays `tokens` (without <start> and <end>) for the single image in `features`. */
export function replayCaption<S>(model: StepDecoder<S>, features: DecoderFeatures, tokens: readonly number[]): ReplayedCaption {
  if (rowsOf(features) !== 1) throw new Error(`Replaying a caption needs the features of one image, got ${rowsOf(features)}.`);
  const inputs = [START_ID, ...tokens];
  const targets = [...tokens, END_ID];
  const tokenLogProbs: number[] = [];
  const attention: number[][] = [];
  let state = tidyKeep(() => model.initialState(features), (s) => model.stateTensors(s));
  try {
    for (let t = 0; t < inputs.length; t++) {
      const out = tidyKeep(
        () => {
          const result = model.step(tf.tensor1d([inputs[t]!], 'int32'), state);
          return { next: result.state, logProbs: result.logProbs, weights: result.attention };
        },
        (r) => [...model.stateTensors(r.next), r.logProbs, ...(r.weights ? [r.weights] : [])],
      );
      const row = out.logProbs.dataSync();
      tokenLogProbs.push(row[targets[t]!]!);
      if (out.weights) attention.push(Array.from(out.weights.dataSync()));
      out.logProbs.dispose();
      out.weights?.dispose();
      releaseState(model, state, out.next);
      state = out.next;
    }
  } finally {
    releaseState(model, state, null);
  }
  return { tokenLogProbs, attention: attention.length > 0 ? attention : null };
}
