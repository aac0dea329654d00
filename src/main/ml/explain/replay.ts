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
  return replayCaptions(model, features, [0], [tokens])[0]!;
}

/**
 * Replays many captions at once, each for the image of `features` that
 * `imageOfRow` names: one step runs every row, so scoring the candidates of
 * a batch of images costs the steps of its longest caption. Without
 * `attention` (a caller that only scores) no weights leave the device and
 * every `attention` is null.
 */
export function replayCaptions<S>(
  model: StepDecoder<S>,
  features: DecoderFeatures,
  imageOfRow: readonly number[],
  captions: readonly (readonly number[])[],
  { attention = true }: { attention?: boolean } = {},
): ReplayedCaption[] {
  const out = captions.map((): ReplayedCaption => ({ tokenLogProbs: [], attention: null }));
  if (captions.length === 0) return out;
  const steps = Math.max(...captions.map((tokens) => tokens.length)) + 1;
  const rowFeatures: DecoderFeatures = tf.tidy(() => {
    const rows = tf.tensor1d(Int32Array.from(imageOfRow), 'int32');
    return {
      ...(features.pooled ? { pooled: tf.gather(features.pooled, rows) } : {}),
      ...(features.grid ? { grid: tf.gather(features.grid, rows) } : {}),
    };
  });
  let state = tidyKeep(() => model.initialState(rowFeatures), (s) => model.stateTensors(s));
  try {
    for (let t = 0; t < steps; t++) {
      // A finished row is fed <end> until the longest caption ends; what it gives then is not read.
      const inputs = captions.map((tokens) => (t === 0 ? START_ID : (tokens[t - 1] ?? END_ID)));
      const stepped = tidyKeep(
        () => {
          const result = model.step(tf.tensor1d(Int32Array.from(inputs), 'int32'), state);
          // Only each row's target word leaves the device, not the whole [rows, vocabulary] matrix.
          const vocab = result.logProbs.shape[1];
          const targets = Int32Array.from(captions, (tokens, row) => row * vocab + (tokens[t] ?? END_ID));
          const picked = tf.gather(tf.reshape(result.logProbs, [-1]), tf.tensor1d(targets, 'int32'));
          return { next: result.state, picked, weights: attention ? result.attention : undefined };
        },
        (r) => [...model.stateTensors(r.next), r.picked, ...(r.weights ? [r.weights] : [])],
      );
      const picked = stepped.picked.dataSync();
      const weights = stepped.weights?.dataSync() ?? null;
      const regions = stepped.weights?.shape[1] ?? 0;
      stepped.picked.dispose();
      stepped.weights?.dispose();
      captions.forEach((tokens, row) => {
        if (t > tokens.length) return;
        const replayed = out[row]!;
        replayed.tokenLogProbs.push(picked[row]!);
        if (weights) (replayed.attention ??= []).push(Array.from(weights.subarray(row * regions, (row + 1) * regions)));
      });
      releaseState(model, state, stepped.next);
      state = stepped.next;
    }
  } finally {
    releaseState(model, state, null);
    tf.dispose([rowFeatures.pooled ?? [], rowFeatures.grid ?? []]);
  }
  return out;
}
