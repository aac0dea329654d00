/**
 * What every decoding strategy needs from a model (the step interface) and
 * what it returns. The caption decoder implements `StepDecoder`; decoding
 * never looks inside the state.
 */
import type * as tf from '@tensorflow/tfjs';
import type { DecoderFeatures } from '../model/decoder';

/**
 * How a decoding will use a state: rows per image (beam width; 1 for greedy
 * and sampling) and the most steps it runs. A model may precompute per-image
 * work from it when that costs less than doing it per row and step.
 */
export interface DecodingPlan {
  beams: number;
  steps: number;
  /** Attention: project the grid once per image (true) or the context per row and step (false), instead of the model's own choice. */
  projectGrid?: boolean;
}

/** How `selectRows` treats the tensors a state holds once per image (see `StepDecoder.selectRows`). */
export interface RowSelection {
  imageRowsUnchanged?: boolean;
  imageRows?: tf.Tensor1D;
}

export interface StepDecoder<S> {
  readonly vocabSize: number;
  /**
   * Whether every row of a step comes out the same to the bit whatever rows
   * share its batch, given a whole number of SIMD packets of rows. Decoding
   * then rearranges rows (one row per image at beam search's first step,
   * finished rows dropped) in whole packets (`rowPacket` in
   * infer/stepping.ts), so that its results do not depend on it.
   */
  readonly rowIndependentSteps?: boolean;
  /**
   * Whether a row's last bits already depend on the rows that share its
   * batch (native TensorFlow: see `CaptionDecoder.rowIndependentSteps`).
   * Decoding then drops finished rows without padding (`rowPacket`): the
   * results are those of the same images decoded in smaller batches, which
   * differ from the full batch's only in the last bits, as any two batch
   * sizes' do there.
   */
  readonly batchDependentSteps?: boolean;
  /** One state row per image; `plan` says how the decoding will step it. */
  initialState(features: DecoderFeatures, plan?: DecodingPlan): S;
  /** Log-probabilities of the next word for every row, the new state and (attention models) the weights over regions. */
  step(previousTokens: tf.Tensor1D, state: S): { logProbs: tf.Tensor2D; state: S; attention?: tf.Tensor2D };
  /**
   * The same step with the unnormalized scores (log p = logits − logsumexp of the row), when the model
   * has them: beam search then ranks candidates without a log-softmax over the whole vocabulary.
   */
  stepLogits?(previousTokens: tf.Tensor1D, state: S): { logits: tf.Tensor2D; state: S; attention?: tf.Tensor2D };
  /**
   * Rows of a state; `imageRowsUnchanged` when rows only move between beams of the same image.
   * `imageRows` (with it): the images kept, as rows of the per-image tensors, when a decoding drops finished images.
   */
  selectRows(state: S, rows: tf.Tensor1D, options?: RowSelection): S;
  /** Every tensor the state holds. */
  stateTensors(state: S): tf.Tensor[];
}

export interface DecodeConstraints {
  /** Words before <end> may appear (at least this many words). */
  minLength: number;
  /** Most words in a caption; at that point <end> is the only choice left. */
  maxLength: number;
  /** Never repeat an n-gram of this size within a caption (0 = off). */
  noRepeatNgramSize: number;
}

export interface GreedyOptions extends DecodeConstraints {
  strategy: 'greedy';
}

export interface BeamOptions extends DecodeConstraints {
  strategy: 'beam';
  beamWidth: number;
  /** Final hypotheses are ranked by Σ log p / length^lengthPenalty (0 = raw sum, 1 = mean per word). */
  lengthPenalty: number;
}

export interface SampleOptions extends DecodeConstraints {
  strategy: 'sample';
  temperature: number;
  /** Keep only the k most likely words (0 = off). */
  topK: number;
  /** Keep the smallest set of words whose probability reaches p (1 = off). */
  topP: number;
  seed: number;
}

export type DecodeOptions = GreedyOptions | BeamOptions | SampleOptions;

export interface DecodedCaption {
  /** Word ids, without <start>; <end> is not included. */
  tokens: number[];
  /** log p of each generated id, then of the closing <end>. */
  tokenLogProbs: number[];
  /** Σ tokenLogProbs. */
  logProb: number;
  /** The number hypotheses were ranked by (beam: length-normalized; otherwise logProb). */
  score: number;
  /** Attention models: weights over the image regions for each generated id (and <end>). */
  attention?: number[][];
}
