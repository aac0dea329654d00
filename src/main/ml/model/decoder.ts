/**
 * The caption decoder: word embeddings, one or two recurrent layers (LSTM or
 * GRU) and an output layer over the vocabulary, in three variants:
 *
 * - init-inject (Show and Tell): the image sets the initial state.
 * - merge (the classic Keras design): the recurrent layers read only words;
 *   the projected image is added to their output, then a dense layer.
 * - attention (Show, Attend and Tell): additive soft attention over the
 *   spatial grid at every step, with a gating scalar on the context and the
 *   doubly stochastic regularizer on the attention weights (each region's
 *   total attention pulled towards the caption's fair share, length / regions).
 *
 * Two ways to run it: `forward` (teacher forcing; input projections of all
 * steps in one matmul, optional scheduled sampling) for training, and the
 * step interface (`initialState` + `step`) that every decoding strategy uses.
 * All weights live in `params` (see params.ts), so they serialize to
 * checkpoints and the optimizer sees them by name.
 */
import * as tf from '@tensorflow/tfjs';
import type { DecoderVariant, RecurrentInit } from '../../../shared/runConfig';
import { drawFromLogits } from '../infer/sampling';
import type { DecodingPlan, RowSelection } from '../infer/types';
import { nativeDropout, nativeDropoutSteps } from './fused/activations';
import { attentionGruSequence } from './fused/attentionGruSequence';
import { attentionLstmSequence } from './fused/attentionLstmSequence';
import { denseRelu } from './fused/denseRelu';
import { linear } from './fused/linear';
import { fusedKernelsEnabled, nativeRandomEnabled } from './fused/nativeOps';
import { outputCrossEntropy } from './fused/outputCrossEntropy';
import { maskedCrossEntropy } from './loss';
import { ParamSet } from './params';
import {
  cellStep,
  createRecurrentLayer,
  matMul2d,
  projectInputs,
  sequenceOutputs,
  stepMasks,
  zeroState,
  type CellKind,
  type LayerState,
  type RecurrentLayer,
} from './recurrent';
import type { Rng } from './rng';

export interface DecoderOptions {
  variant: DecoderVariant;
  cell: CellKind;
  layers: number;
  vocabSize: number;
  embeddingDim: number;
  units: number;
  dropout: number;
  /** Attention only: hidden size of the additive attention. */
  attentionDim: number;
  /** Attention only: weight λ of Σ_l (n/L − Σ_t α_tl)² (n real steps, L regions). */
  doublyStochasticWeight: number;
  /** Pooled feature length (init-inject, merge) or grid channels (attention). */
  featureDim: number;
  /**
   * How many of the last feature channels the encoder added to say where
   * (`encoder.gridDirections`: 32, `encoder.gridCoordinates`: 2). Their rows
   * in every weight that reads the image start at zero and the other rows as
   * without them: the decoder starts as the one without them and learns to
   * use them where they lower the loss (where things are, once it knows what
   * they are).
   */
  addedChannels?: number;
  /**
   * Attention only: the word read at a step joins that step's attention
   * query, e = tanh(grid·Wg + h·Ws + x·Wx) with x the word's embedding
   * (`decoder.attentionWordQuery`). Without it the query is the previous
   * state alone, which was formed before the word was chosen: after "red"
   * it cannot look for the red object. Wx starts at zero and is the
   * decoder's last weight, so the other weights and the first forward pass
   * are those of the decoder without it.
   */
  wordQuery?: boolean;
  /**
   * Attention only: a second glimpse, looked for by the last words alone
   * (two, or `glimpseWords`), joins the deep output (`decoder.attentionWordGlimpse`):
   * α' = softmax(v'·tanh(grid·Wg + [x_t, x_{t−1}, …]·Wq)), deep += Wo'·(α'·grid).
   * After "orange box" it is on the orange box whatever the recurrent
   * attention is doing (looking ahead to the background, say), so the word
   * chosen next ("under", "left of") can read where that object is and what
   * lies around it; after "orange" it is on the orange objects, which names
   * their shape. Its weights come after every other one and Wo' starts at
   * zero, so the decoder starts as the one without it.
   */
  wordGlimpse?: boolean;
  /**
   * How many of the last words lead the word glimpse
   * (`decoder.attentionGlimpseWords`; 2 when absent): with 4, at "the" of
   * "a red box to the" the query still holds "red box", so the side word
   * chosen next reads where the box is; by "the left of a" it has let go,
   * free to find the second object.
   */
  glimpseWords?: number;
  /**
   * Attention only: the attention each cell has had so far joins its energy,
   * e_t = tanh(grid·Wg + query + cov_t ⊗ wcov) with cov_t = Σ_{t'<t} α_t'
   * (`decoder.attentionCoverage`; See et al. 2017). Having looked at an
   * object while naming it, the attention can tell it from the object it
   * should find next ("a red box left of a …" names another object, not the
   * box again). wcov starts at zero and is the decoder's last weight, so
   * the decoder starts as the one without it.
   */
  coverage?: boolean;
  /** How the recurrent kernels start (`decoder.recurrentInit`); glorot when absent. */
  recurrentInit?: RecurrentInit;
}

/** Image features as the decoder reads them. Attention needs `grid`; the others use `pooled` (or the grid's mean). */
export interface DecoderFeatures {
  pooled?: tf.Tensor2D;
  grid?: tf.Tensor3D;
}

/** Everything a decoding step needs, one row per image (or per beam). */
export interface DecoderState {
  layers: LayerState[];
  /** merge: the projected image [rows, units]. */
  imageProj?: tf.Tensor2D;
  /** attention: the grid [rows, L, C] and its attention projection [rows, L, A]. */
  grid?: tf.Tensor3D;
  gridProj?: tf.Tensor3D;
  /**
   * attention, decoding with many rows per image (see `initialState`): the
   * grid projected into the gates and the deep output,
   * grid · [contextKernel | outputKernel] [rows, L, gates·units + units],
   * held instead of the grid.
   */
  gridOut?: tf.Tensor3D;
  /**
   * attention with `wordGlimpse`: the embeddings of the words read before
   * the step's own, most recent first [rows, (glimpseWords − 1)·E] (zeros
   * before the first word).
   */
  previousWords?: tf.Tensor2D;
  /** attention with `coverage`: the attention weights of every step so far, summed [rows, L]. */
  coverage?: tf.Tensor2D;
}

export interface StepResult {
  /** log p(word | image, previous words) [rows, vocab] */
  logProbs: tf.Tensor2D;
  state: DecoderState;
  /** attention weights of this step [rows, L] (attention decoder only) */
  attention?: tf.Tensor2D;
}

export interface ForwardOptions {
  training: boolean;
  /** Seed of this step's dropout masks (required when training with dropout). */
  dropoutSeed?: number;
  /** Scheduled sampling: probability of feeding the model's own previous word. */
  samplingProbability?: number;
  samplingSeed?: number;
  /** Real steps of each row, when known on the host: steps without padding then skip the masking ops. */
  lengths?: readonly number[];
}

export interface ForwardResult {
  /** [B * T, vocab] */
  logits: tf.Tensor2D;
  /** [B, T, L] (attention decoder only) */
  attention?: tf.Tensor3D;
}

export interface LossResult {
  /** What the optimizer minimizes: cross-entropy (smoothed) plus the attention regularizer. */
  total: tf.Scalar;
  /** Plain masked cross-entropy per token (without label smoothing): the number to report. */
  crossEntropy: tf.Scalar;
}

/** A batch of captions: `inputs` start with <start>, `targets` are the same words shifted by one. */
export interface CaptionBatch {
  /** [B, T] int32 */
  inputs: tf.Tensor2D;
  /** [B, T] int32 */
  targets: tf.Tensor2D;
  /** [B, T] float32: 1 for real target words (the <end> included), 0 for padding */
  mask: tf.Tensor2D;
  /** Real steps of each row (the mask's row sums), when the host knows them. */
  lengths?: readonly number[];
}

/** x [rows, n] plus the image's row of `perImage` [images, n]; rows = images × beams, beams of an image adjacent. */
function addPerImage(x: tf.Tensor2D, perImage: tf.Tensor2D): tf.Tensor2D {
  const [rows, width] = x.shape;
  const images = perImage.shape[0];
  if (rows === images) return tf.add(x, perImage) as tf.Tensor2D;
  return tf.reshape(tf.add(tf.reshape(x, [images, rows / images, width]), tf.expandDims(perImage, 1)), [rows, width]) as tf.Tensor2D;
}

/** Dropout whose masks come from consecutive seeds, so a step's randomness is fixed by one number. */
class Dropout {
  private next: number;
  constructor(
    private readonly rate: number,
    seed: number,
  ) {
    this.next = seed;
  }
  apply<T extends tf.Tensor>(x: T): T {
    if (this.rate <= 0) return x;
    this.next = (this.next + 7919) % 2147483647;
    // Native TensorFlow draws the mask itself (same seed, same mask; see fused/activations.ts).
    if (nativeRandomEnabled()) return nativeDropout(x, this.rate, this.next);
    return tf.dropout(x, this.rate, undefined, this.next) as T;
  }
  /** `apply` on each step x[:, t] of [B, T, W] in turn: the same seeds and masks, one multiply where TensorFlow draws them. */
  applySteps(x: tf.Tensor3D): tf.Tensor3D {
    if (this.rate <= 0) return x;
    if (!nativeRandomEnabled()) return tf.stack(tf.unstack(x, 1).map((step) => this.apply(step)), 1) as tf.Tensor3D;
    const seeds = Array.from({ length: x.shape[1] }, () => (this.next = (this.next + 7919) % 2147483647));
    return nativeDropoutSteps(x, this.rate, seeds);
  }
}

const noDropout = { apply: <T extends tf.Tensor>(x: T): T => x, applySteps: (x: tf.Tensor3D): tf.Tensor3D => x };
type StepMasks = ReadonlyArray<tf.Tensor2D | undefined>;
type DropoutLike = { apply<T extends tf.Tensor>(x: T): T; applySteps(x: tf.Tensor3D): tf.Tensor3D };
/** The forward pass before the output layer (`hidden` [B * T, units]) or, step by step, through it (`logits`). */
type CoreResult = { hidden?: tf.Tensor2D; logits?: tf.Tensor2D; attention?: tf.Tensor3D };

export class CaptionDecoder {
  readonly params = new ParamSet();
  private readonly embedding: tf.Variable;
  private readonly recurrent: RecurrentLayer[] = [];
  private readonly outKernel: tf.Variable;
  private readonly outBias: tf.Variable;

  constructor(
    readonly options: DecoderOptions,
    rng: Rng,
  ) {
    const { variant, cell, layers, vocabSize, embeddingDim, units, featureDim, attentionDim } = options;
    const added = options.addedChannels ?? 0;
    if (layers < 1 || layers > 2) throw new Error(`decoder.layers must be 1 or 2 (got ${layers}).`);
    const p = this.params;
    this.embedding = p.add('embedding', [vocabSize, embeddingDim], { kind: 'uniform', limit: 0.05 }, rng);
    for (let layer = 0; layer < layers; layer++) {
      this.recurrent.push(createRecurrentLayer(p, `rnn${layer}`, cell, layer === 0 ? embeddingDim : units, units, rng, options.recurrentInit));
    }
    const statesPerLayer = cell === 'lstm' ? 2 : 1;
    if (variant === 'merge') {
      p.add('image/kernel', [featureDim, units], { kind: 'glorot' }, rng, added);
      p.add('image/bias', [units], { kind: 'zeros' }, rng);
      p.add('merge/kernel', [units, units], { kind: 'glorot' }, rng);
      p.add('merge/bias', [units], { kind: 'zeros' }, rng);
    } else {
      p.add('init/kernel', [featureDim, layers * statesPerLayer * units], { kind: 'glorot' }, rng, added);
      p.add('init/bias', [layers * statesPerLayer * units], { kind: 'zeros' }, rng);
    }
    if (variant === 'attention') {
      const gates = (cell === 'lstm' ? 4 : 3) * units;
      p.add('attention/gridKernel', [featureDim, attentionDim], { kind: 'glorot' }, rng, added);
      p.add('attention/bias', [attentionDim], { kind: 'zeros' }, rng);
      p.add('attention/stateKernel', [units, attentionDim], { kind: 'glorot' }, rng);
      p.add('attention/score', [attentionDim, 1], { kind: 'glorot' }, rng);
      p.add('attention/gateKernel', [units, 1], { kind: 'glorot' }, rng);
      p.add('attention/gateBias', [1], { kind: 'zeros' }, rng);
      p.add('attention/contextKernel', [featureDim, gates], { kind: 'glorot' }, rng, added);
      p.add('attention/outputKernel', [featureDim, units], { kind: 'glorot' }, rng, added);
    }
    this.outKernel = p.add('output/kernel', [units, vocabSize], { kind: 'glorot' }, rng);
    this.outBias = p.add('output/bias', [vocabSize], { kind: 'zeros' }, rng);
    if (variant === 'attention' && options.wordQuery) p.add('attention/wordKernel', [embeddingDim, attentionDim], { kind: 'zeros' }, rng);
    if (variant === 'attention' && options.wordGlimpse) {
      p.add('wordGlimpse/queryKernel', [this.glimpseWords * embeddingDim, attentionDim], { kind: 'glorot' }, rng);
      p.add('wordGlimpse/score', [attentionDim, 1], { kind: 'glorot' }, rng);
      p.add('wordGlimpse/outputKernel', [featureDim, units], { kind: 'zeros' }, rng);
    }
    if (variant === 'attention' && options.coverage) p.add('attention/coverageKernel', [1, attentionDim], { kind: 'zeros' }, rng);
  }

  /** wcov, how the attention each cell has had joins its energy, when the decoder has coverage. */
  private get coverageKernel(): tf.Tensor2D | undefined {
    return this.params.has('attention/coverageKernel') ? (this.params.get('attention/coverageKernel') as tf.Tensor2D) : undefined;
  }

  /** How many of the last words lead the word glimpse, when the decoder has one. */
  private get glimpseWords(): number {
    return this.options.glimpseWords ?? 2;
  }

  /** The words before a step's own that the word glimpse keeps, zeros for a caption's start [rows, (glimpseWords − 1)·E]. */
  private noPreviousWords(rows: number): tf.Tensor2D {
    return tf.zeros([rows, (this.glimpseWords - 1) * this.options.embeddingDim]);
  }

  /** The words before the next step's own: this step's word, then the older ones, the oldest dropped. */
  private shiftPreviousWords(word: tf.Tensor2D, previous: tf.Tensor2D): tf.Tensor2D {
    const kept = (this.glimpseWords - 2) * this.options.embeddingDim;
    return kept === 0 ? word : (tf.concat([word, tf.slice(previous, [0, 0], [-1, kept])], 1) as tf.Tensor2D);
  }

  /** Wo' of the word glimpse in the deep output, when the decoder has one. */
  private get wordGlimpseKernel(): tf.Tensor2D | undefined {
    return this.params.has('wordGlimpse/outputKernel') ? (this.params.get('wordGlimpse/outputKernel') as tf.Tensor2D) : undefined;
  }

  /**
   * The word glimpse's part of the deep output [rows, units], rows = images ×
   * k (k rows per image, in image order: beams, or a caption's steps), from
   * the words read [rows, E], the words before them [rows, (k − 1)·E], the projected
   * grid [images, L, A] and the values it averages [images, L, n] (the grid
   * with n = C, then times Wo'; or the grid already times Wo', n = units).
   */
  private wordGlimpse(words: tf.Tensor2D, previous: tf.Tensor2D, gridProj: tf.Tensor3D, values: tf.Tensor3D, projected: boolean): tf.Tensor2D {
    const [images, regions, attentionDim] = gridProj.shape;
    const rows = words.shape[0];
    const perImage = rows / images;
    const query = matMul2d(tf.concat([words, previous], 1) as tf.Tensor2D, this.params.get('wordGlimpse/queryKernel') as tf.Tensor2D);
    const energy = tf.tanh(tf.add(tf.expandDims(gridProj, 1), tf.reshape(query, [images, perImage, 1, attentionDim])));
    const scores = matMul2d(tf.reshape(energy, [rows * regions, attentionDim]) as tf.Tensor2D, this.params.get('wordGlimpse/score') as tf.Tensor2D);
    const alpha = tf.softmax(tf.reshape(scores, [images, perImage, regions]));
    const glimpse = tf.reshape(tf.matMul(alpha, values), [rows, -1]) as tf.Tensor2D;
    return projected ? glimpse : matMul2d(glimpse, this.wordGlimpseKernel!);
  }

  /** The words' part of the attention query, x·Wx [rows, A], when the decoder has one. */
  private wordQuery(embedded: tf.Tensor2D): tf.Tensor2D | undefined {
    return this.params.has('attention/wordKernel') ? matMul2d(embedded, this.params.get('attention/wordKernel') as tf.Tensor2D) : undefined;
  }

  get vocabSize(): number {
    return this.options.vocabSize;
  }

  get variant(): DecoderVariant {
    return this.options.variant;
  }

  /** Whether this decoder reads the spatial grid (attention) or the pooled vector. */
  get needsGrid(): boolean {
    return this.options.variant === 'attention';
  }

  // ─── teacher forcing ───────────────────────────────────────────────────────

  /**
   * Logits for every position of a teacher-forced batch. With
   * `samplingProbability` > 0 (scheduled sampling), each row's input word is
   * replaced by the model's own sample from the previous step with that
   * probability; this runs step by step.
   */
  forward(features: DecoderFeatures, inputs: tf.Tensor2D, mask: tf.Tensor2D, options: ForwardOptions): ForwardResult {
    const out = this.forwardCore(features, inputs, mask, options);
    if (out.logits) return out.attention ? { logits: out.logits, attention: out.attention } : { logits: out.logits };
    const logits = this.outputLogits(out.hidden!);
    return out.attention ? { logits, attention: out.attention } : { logits };
  }

  /** The forward pass up to the output layer (teacher forcing) or through it (scheduled sampling, which needs each step's logits). */
  private forwardCore(features: DecoderFeatures, inputs: tf.Tensor2D, mask: tf.Tensor2D, options: ForwardOptions): CoreResult {
    const dropout: DropoutLike =
      options.training && this.options.dropout > 0 ? new Dropout(this.options.dropout, options.dropoutSeed ?? 1) : noDropout;
    const masks = stepMasks(mask, options.lengths);
    if (options.training && (options.samplingProbability ?? 0) > 0) {
      return this.forwardScheduled(features, inputs, masks, dropout, options.samplingProbability!, options.samplingSeed ?? 1);
    }
    if (this.options.variant === 'attention') return this.forwardAttention(features, inputs, masks, dropout);
    return this.forwardSequence(features, inputs, masks, dropout);
  }

  /** Mean masked cross-entropy of a batch (label smoothing optional) plus the attention regularizer. */
  loss(features: DecoderFeatures, batch: CaptionBatch, options: ForwardOptions & { labelSmoothing?: number }): LossResult {
    const out = this.forwardCore(features, batch.inputs, batch.mask, batch.lengths ? { ...options, lengths: batch.lengths } : options);
    const targets = tf.reshape(batch.targets, [-1]) as tf.Tensor1D;
    const weights = tf.reshape(batch.mask, [-1]) as tf.Tensor1D;
    const smoothing = options.labelSmoothing ?? 0;
    let crossEntropy: tf.Scalar;
    let total: tf.Scalar;
    if (out.hidden && fusedKernelsEnabled()) {
      // Native TensorFlow: output layer and loss as one node, never forming the gradient of the logits.
      const both = outputCrossEntropy(out.hidden, this.outKernel as tf.Tensor2D, this.outBias as tf.Tensor1D, targets, weights, smoothing);
      [total, crossEntropy] = tf.unstack(both) as [tf.Scalar, tf.Scalar];
    } else {
      const logits = out.logits ?? this.outputLogits(out.hidden!);
      crossEntropy = maskedCrossEntropy(logits, targets, weights, 0);
      total = smoothing > 0 ? maskedCrossEntropy(logits, targets, weights, smoothing) : crossEntropy;
    }
    if (out.attention && this.options.doublyStochasticWeight > 0) {
      total = tf.add(total, this.doublyStochastic(out.attention, batch.mask)) as tf.Scalar;
    }
    return { total, crossEntropy };
  }

  /**
   * λ · mean over images of Σ_l (n/L − Σ_t α_tl)², padded steps excluded: n
   * real steps hand out n units of attention over L regions, so n/L is what
   * every region gets when nothing is ignored. The paper's target of 1
   * assumes n ≈ L (long captions, a 14×14 grid); with short captions on a
   * small grid it leaves a floor of L·(1 − n/L)² that no attention can
   * remove (42 of a loss of 46 on Shapes, 12 words over 64 regions), which
   * hides the cross-entropy in the reported loss. The gradient is the same
   * (Σ_l Σ_t α_tl = n whatever the target); the loss now reads 0 for
   * attention that covers the grid evenly.
   */
  private doublyStochastic(attention: tf.Tensor3D, mask: tf.Tensor2D): tf.Scalar {
    const regions = attention.shape[2];
    const perRegion = tf.sum(tf.mul(attention, tf.expandDims(mask, 2)), 1); // [B, L]
    const fairShare = tf.div(tf.sum(mask, 1, true), regions); // [B, 1]
    const penalty = tf.mean(tf.sum(tf.square(tf.sub(fairShare, perRegion)), 1));
    return tf.mul(penalty, this.options.doublyStochasticWeight) as tf.Scalar;
  }

  /** init-inject and merge: each layer over the whole sequence, one input matmul per layer. */
  private forwardSequence(features: DecoderFeatures, inputs: tf.Tensor2D, masks: StepMasks, dropout: DropoutLike): CoreResult {
    const [batch, steps] = inputs.shape;
    const pooled = dropout.apply(this.pooledOf(features));
    let x = dropout.apply(tf.gather(this.embedding, inputs) as tf.Tensor3D);
    const initial = this.options.variant === 'init-inject' ? this.injectedState(pooled) : this.recurrent.map((l) => zeroState(l, batch));
    for (let layer = 0; layer < this.recurrent.length; layer++) {
      x = dropout.apply(sequenceOutputs(this.recurrent[layer]!, x, initial[layer]!, masks));
    }
    let hidden = tf.reshape(x, [batch * steps, this.options.units]) as tf.Tensor2D;
    if (this.options.variant === 'merge') {
      const image = this.projectImage(pooled); // [B, units]
      const merged = tf.add(x, tf.expandDims(image, 1));
      hidden = this.mergeDense(tf.reshape(merged, [batch * steps, this.options.units]) as tf.Tensor2D);
    }
    return { hidden };
  }

  /** Soft attention: embeddings of all steps projected at once, attention and recurrence per step. */
  private forwardAttention(features: DecoderFeatures, inputs: tf.Tensor2D, masks: StepMasks, dropout: DropoutLike): CoreResult {
    const [batch, steps] = inputs.shape;
    let state = this.initialStateWith(features, dropout);
    const embedded = dropout.apply(tf.gather(this.embedding, inputs) as tf.Tensor3D);
    const first = this.recurrent[0]!;
    const rows = tf.reshape(embedded, [batch * steps, this.options.embeddingDim]) as tf.Tensor2D;
    const projected = projectInputs(first, rows);
    const query = this.wordQuery(rows);
    const queryProj = query ? (tf.reshape(query, [batch, steps, -1]) as tf.Tensor3D) : undefined;
    if (fusedKernelsEnabled() && this.recurrent.length === 1) {
      return this.attentionSequence(tf.reshape(projected, [batch, steps, -1]) as tf.Tensor3D, state, dropout, queryProj, embedded);
    }
    const perStep = tf.unstack(tf.transpose(tf.reshape(projected, [batch, steps, -1]), [1, 0, 2])) as tf.Tensor2D[];
    const queryPerStep = queryProj ? (tf.unstack(tf.transpose(queryProj, [1, 0, 2])) as tf.Tensor2D[]) : [];
    const wordsPerStep = this.wordGlimpseKernel ? (tf.unstack(tf.transpose(embedded, [1, 0, 2])) as tf.Tensor2D[]) : [];
    const hiddens: tf.Tensor2D[] = [];
    const alphas: tf.Tensor2D[] = [];
    for (let t = 0; t < steps; t++) {
      const out = this.attentionStep(perStep[t]!, state, dropout, masks[t], queryPerStep[t], wordsPerStep[t]);
      state = out.state;
      hiddens.push(out.hidden);
      alphas.push(out.alpha);
    }
    const hidden = tf.reshape(tf.stack(hiddens, 1), [batch * steps, this.options.units]) as tf.Tensor2D;
    return { hidden, attention: tf.stack(alphas, 1) as tf.Tensor3D };
  }

  /**
   * `forwardAttention` on native TensorFlow for one layer: the whole
   * recurrence as one tape node (fused/attentionLstmSequence.ts,
   * fused/attentionGruSequence.ts). It does not hold the state on padded
   * steps; nothing after a row's last word reaches the loss (the
   * cross-entropy weights and the doubly stochastic regularizer both
   * multiply by the mask), so the loss and gradients are the masked
   * reference's. Dropout draws each step's mask with the seed the
   * reference's per-step `apply` would use, in the same order, so a seed
   * gives the same masks on both paths.
   */
  private attentionSequence(xProj: tf.Tensor3D, state: DecoderState, dropout: DropoutLike, queryProj: tf.Tensor3D | undefined, embedded: tf.Tensor3D): CoreResult {
    const [batch, steps] = xProj.shape;
    const { grid, gridProj } = state;
    const initial = state.layers[0]!;
    const layer = this.recurrent[0]!;
    if (!grid || !gridProj) throw new Error('An attention decoder state needs the image grid and its projection.');
    const weight = (name: string) => this.params.get(name) as tf.Tensor2D;
    const attention = {
      stateKernel: weight('attention/stateKernel'),
      score: weight('attention/score'),
      gateKernel: weight('attention/gateKernel'),
      gateBias: this.params.get('attention/gateBias') as tf.Tensor1D,
      contextKernel: weight('attention/contextKernel'),
      outputKernel: weight('attention/outputKernel'),
      coverageKernel: this.coverageKernel,
    };
    let out: { deep: tf.Tensor3D; alpha: tf.Tensor3D };
    if (layer.kind === 'lstm') {
      if (!initial.c) throw new Error('An LSTM state needs a cell state.');
      out = attentionLstmSequence({ xProj, grid, gridProj, h0: initial.h, c0: initial.c, queryProj }, { ...attention, recurrent: layer.recurrent as tf.Tensor2D });
    } else {
      if (!layer.recurrentBias) throw new Error('A GRU layer needs a recurrent bias.');
      out = attentionGruSequence(
        { xProj, grid, gridProj, h0: initial.h, queryProj },
        { ...attention, recurrent: layer.recurrent as tf.Tensor2D, recurrentBias: layer.recurrentBias as tf.Tensor1D },
      );
    }
    let deep = out.deep;
    if (this.wordGlimpseKernel) {
      // Every step's word glimpse at once: a caption's steps are the rows of its image.
      const embeddingDim = this.options.embeddingDim;
      // The words before step t, most recent first: the caption shifted right by 1, 2, ….
      const shifted = (by: number) =>
        by >= steps
          ? tf.zeros([batch, steps, embeddingDim])
          : tf.concat([tf.zeros([batch, by, embeddingDim]), tf.slice(embedded, [0, 0, 0], [batch, steps - by, embeddingDim])], 1);
      const shifts = Array.from({ length: this.glimpseWords - 1 }, (_, i) => shifted(i + 1));
      const before = shifts.length === 1 ? shifts[0]! : tf.concat(shifts, 2);
      const flat = (x: tf.Tensor) => tf.reshape(x, [batch * steps, -1]) as tf.Tensor2D;
      const glimpses = this.wordGlimpse(flat(embedded), flat(before), gridProj, grid, false);
      deep = tf.add(deep, tf.reshape(glimpses, [batch, steps, this.options.units])) as tf.Tensor3D;
    }
    const hidden = tf.reshape(dropout.applySteps(deep), [batch * steps, this.options.units]) as tf.Tensor2D;
    return { hidden, attention: out.alpha };
  }

  /** Scheduled sampling (Bengio et al. 2015): step by step, mixing true and sampled previous words. */
  private forwardScheduled(
    features: DecoderFeatures,
    inputs: tf.Tensor2D,
    masks: StepMasks,
    dropout: DropoutLike,
    probability: number,
    seed: number,
  ): CoreResult {
    const [batch, steps] = inputs.shape;
    let state = this.initialStateWith(features, dropout);
    const teacher = tf.unstack(inputs, 1) as tf.Tensor1D[];
    const logitsPerStep: tf.Tensor2D[] = [];
    const alphas: tf.Tensor2D[] = [];
    let previous: tf.Tensor2D | null = null;
    for (let t = 0; t < steps; t++) {
      let tokens = teacher[t]!;
      if (previous) {
        // The sample is a discrete choice and no gradient flows through it.
        // tfjs has no stop-gradient op, so the chosen words are read back and
        // re-created as a fresh tensor: otherwise the tape would try to
        // differentiate the embedding lookup with respect to its indices.
        const sampled = drawFromLogits(previous, seed + 2 * t);
        const coin = tf.less(tf.randomUniform([batch], 0, 1, 'float32', seed + 2 * t + 1), probability);
        tokens = tf.tensor1d(tf.where(coin, sampled, tokens).dataSync() as Int32Array, 'int32');
      }
      const out = this.stepCore(tokens, state, dropout, masks[t]);
      state = out.state;
      logitsPerStep.push(out.logits);
      if (out.alpha) alphas.push(out.alpha);
      previous = out.logits;
    }
    const logits = tf.reshape(tf.stack(logitsPerStep, 1), [batch * steps, this.options.vocabSize]) as tf.Tensor2D;
    return alphas.length > 0 ? { logits, attention: tf.stack(alphas, 1) as tf.Tensor3D } : { logits };
  }

  // ─── the step interface ────────────────────────────────────────────────────

  /**
   * The state before the first word (<start> is the first `step` input).
   *
   * Attention: each step projects its gated context into the gates and the
   * deep output, (g·α·grid)·W, a [rows, C] × [C, n] matmul per step (n =
   * gates·units + units, and units more with the word glimpse, whose
   * α'·grid is projected the same way). The same is g·α·(grid·W), and
   * grid·W is per image: the state can hold it instead of the grid, and each
   * step forms α·(grid·W), [rows, L] × [L, n], instead of α·grid, L·C, and
   * its projection, C·n, per row; equal up to the order of float sums. That
   * saves beams·steps·(a·L·C + C·n − L·n) multiply-adds per image (a: the
   * number of attentions) and costs L·C·n once, so it pays only where the
   * grid has many channels for its regions: with MobileNet's grid (C =
   * 1,280, L = 49) from 49 beams·steps, with the Shapes preset's (C = 162,
   * L = 64, two attentions) from 93. The one large matmul also runs at a
   * lower rate than the per-step ones on a 2-core CPU (measured with
   * MobileNet's grid: width 3 over 17 steps, at the break-even, was slower
   * projected; width 5, 1.7× it, about 10% faster; width 10 about 30%; with
   * the Shapes preset's grid, beam 5 over 21 steps was 1.28× slower
   * projected; see docs/performance.md), so a `plan` takes it when the
   * saving exceeds 1.5 times the cost, unless `plan.projectGrid` decides.
   * Training never takes it.
   */
  initialState(features: DecoderFeatures, plan?: DecodingPlan): DecoderState {
    const state = this.initialStateWith(features, noDropout);
    if (!state.grid || !plan) return state;
    const [images, regions, channels] = state.grid.shape;
    const p = this.params;
    const projected = [p.get('attention/contextKernel'), p.get('attention/outputKernel'), ...(this.wordGlimpseKernel ? [this.wordGlimpseKernel] : [])];
    const width = projected.reduce((sum, kernel) => sum + kernel.shape[1]!, 0);
    const attentions = this.wordGlimpseKernel ? 2 : 1;
    const saving = plan.beams * plan.steps * (attentions * regions * channels + channels * width - regions * width);
    if (!(plan.projectGrid ?? saving > 1.5 * regions * channels * width)) return state;
    const { grid, ...rest } = state;
    const kernels = tf.concat(projected, 1);
    const gridOut = tf.reshape(tf.matMul(tf.reshape(grid, [images * regions, channels]), kernels), [images, regions, kernels.shape[1]!]) as tf.Tensor3D;
    kernels.dispose();
    grid.dispose();
    return { ...rest, gridOut };
  }

  /**
   * On the JavaScript backends a row's step is the same whatever rows share
   * its batch (their kernels loop over rows alike). Native TensorFlow's are
   * not, measured: its Softmax (the attention weights) works through the
   * batch in blocks of rows whose edges move with the batch size, and its
   * 2-D MatMul (oneDNN, in the fused layers) at 1,024 units gives a row other
   * last bits in a batch of 32 rows than of 160. So a caption there already
   * depends in the last bits on the batch it is decoded in, and decoding
   * drops finished rows without padding them to whole packets
   * (`batchDependentSteps`, infer/stepping.ts `rowPacket`).
   */
  get rowIndependentSteps(): boolean {
    return tf.getBackend() !== 'tensorflow';
  }

  get batchDependentSteps(): boolean {
    return !this.rowIndependentSteps;
  }

  /** One decoding step for every row at once: log-probabilities of the next word. */
  step(previousTokens: tf.Tensor1D, state: DecoderState): StepResult {
    const out = this.stepCore(previousTokens, state, noDropout);
    const logProbs = tf.logSoftmax(out.logits) as tf.Tensor2D;
    return out.alpha ? { logProbs, state: out.state, attention: out.alpha } : { logProbs, state: out.state };
  }

  /** `step` before the log-softmax: the output layer's logits [rows, vocab]. */
  stepLogits(previousTokens: tf.Tensor1D, state: DecoderState): { logits: tf.Tensor2D; state: DecoderState; attention?: tf.Tensor2D } {
    const out = this.stepCore(previousTokens, state, noDropout);
    return out.alpha ? { logits: out.logits, state: out.state, attention: out.alpha } : { logits: out.logits, state: out.state };
  }

  /**
   * Rows of a state, e.g. to give each image K beams (`[0,0,0,1,1,1]`) or to
   * follow the beams that survived a step. Returns new tensors; the caller
   * disposes the old state. With `imageRowsUnchanged` (every row stays with
   * its image) the image tensors are kept as they are, possibly one row per
   * image for several beams each: the steps broadcast them over the beams.
   * With `imageRows` as well, only those rows of the image tensors are kept
   * (a beam search dropping the images it has finished).
   */
  selectRows(state: DecoderState, rows: tf.Tensor1D, options: RowSelection = {}): DecoderState {
    const pick = <T extends tf.Tensor>(x: T): T => tf.gather(x, rows) as T;
    // Beams of one image share its image tensors: when rows only move between
    // beams of the same image, those are reused as they are (callers dispose
    // only the tensors a new state no longer holds).
    const image = <T extends tf.Tensor>(x: T): T => {
      if (!options.imageRowsUnchanged) return pick(x);
      return options.imageRows ? (tf.gather(x, options.imageRows) as T) : x;
    };
    return {
      layers: state.layers.map((layer) => (layer.c ? { h: pick(layer.h), c: pick(layer.c) } : { h: pick(layer.h) })),
      ...(state.imageProj ? { imageProj: image(state.imageProj) } : {}),
      ...(state.grid ? { grid: image(state.grid) } : {}),
      ...(state.gridProj ? { gridProj: image(state.gridProj) } : {}),
      ...(state.gridOut ? { gridOut: image(state.gridOut) } : {}),
      ...(state.previousWords ? { previousWords: pick(state.previousWords) } : {}),
      ...(state.coverage ? { coverage: pick(state.coverage) } : {}),
    };
  }

  /** Every tensor a state holds (to keep or dispose them outside a tidy). */
  stateTensors(state: DecoderState): tf.Tensor[] {
    const out: tf.Tensor[] = [];
    for (const layer of state.layers) {
      out.push(layer.h);
      if (layer.c) out.push(layer.c);
    }
    if (state.imageProj) out.push(state.imageProj);
    if (state.grid) out.push(state.grid);
    if (state.gridProj) out.push(state.gridProj);
    if (state.gridOut) out.push(state.gridOut);
    if (state.previousWords) out.push(state.previousWords);
    if (state.coverage) out.push(state.coverage);
    return out;
  }

  // ─── shared pieces ─────────────────────────────────────────────────────────

  private initialStateWith(features: DecoderFeatures, dropout: DropoutLike): DecoderState {
    const variant = this.options.variant;
    if (variant === 'attention') {
      const grid = this.gridOf(features);
      const [rows, regions, channels] = grid.shape;
      const gridProj = tf.reshape(
        tf.add(tf.matMul(tf.reshape(grid, [rows * regions, channels]), this.params.get('attention/gridKernel')), this.params.get('attention/bias')),
        [rows, regions, this.options.attentionDim],
      ) as tf.Tensor3D;
      const layers = this.injectedState(dropout.apply(tf.mean(grid, 1) as tf.Tensor2D));
      // The state owns its tensors (decoding disposes them); a clone shares the data.
      const previous = this.wordGlimpseKernel ? { previousWords: this.noPreviousWords(rows) } : {};
      const coverage = this.coverageKernel ? { coverage: tf.zeros([rows, regions]) as tf.Tensor2D } : {};
      return { layers, grid: tf.clone(grid), gridProj, ...previous, ...coverage };
    }
    const pooled = dropout.apply(this.pooledOf(features));
    if (variant === 'init-inject') return { layers: this.injectedState(pooled) };
    const rows = pooled.shape[0];
    return { layers: this.recurrent.map((layer) => zeroState(layer, rows)), imageProj: this.projectImage(pooled) };
  }

  /** One step from tokens: embedding, (attention,) recurrence, output logits. */
  private stepCore(
    tokens: tf.Tensor1D,
    state: DecoderState,
    dropout: DropoutLike,
    mask?: tf.Tensor2D,
  ): { logits: tf.Tensor2D; state: DecoderState; alpha?: tf.Tensor2D } {
    const embedded = dropout.apply(tf.gather(this.embedding, tokens) as tf.Tensor2D);
    const xProj = projectInputs(this.recurrent[0]!, embedded);
    if (this.options.variant === 'attention') {
      const out = this.attentionStep(xProj, state, dropout, mask, this.wordQuery(embedded), embedded);
      return { logits: this.outputLogits(out.hidden), state: out.state, alpha: out.alpha };
    }
    const layers: LayerState[] = [];
    let input = xProj;
    for (let layer = 0; layer < this.recurrent.length; layer++) {
      const next = cellStep(this.recurrent[layer]!, input, state.layers[layer]!, mask);
      layers.push(next);
      if (layer + 1 < this.recurrent.length) input = projectInputs(this.recurrent[layer + 1]!, dropout.apply(next.h));
    }
    let hidden = dropout.apply(layers[layers.length - 1]!.h);
    if (this.options.variant === 'merge') {
      if (!state.imageProj) throw new Error('A merge decoder state needs the projected image.');
      hidden = this.mergeDense(addPerImage(hidden, state.imageProj));
    }
    return { logits: this.outputLogits(hidden), state: { ...state, layers } };
  }

  /**
   * One attention step given the word part of the first layer's input
   * (`xProj`, bias included) and, with `wordQuery`, the word's part of the
   * attention query: attend with the top layer's previous state,
   * gate the context, run the layers, and form the deep output h + W·context.
   */
  private attentionStep(
    xProj: tf.Tensor2D,
    state: DecoderState,
    dropout: DropoutLike,
    mask?: tf.Tensor2D,
    wordQuery?: tf.Tensor2D,
    word?: tf.Tensor2D,
  ): { hidden: tf.Tensor2D; state: DecoderState; alpha: tf.Tensor2D } {
    const { grid, gridProj, gridOut } = state;
    if (!gridProj || !(grid || gridOut)) throw new Error('An attention decoder state needs the image grid.');
    const [images, regions] = gridProj.shape;
    const top = state.layers[state.layers.length - 1]!.h;
    const rows = top.shape[0];
    const p = this.params;
    const weight = (name: string) => p.get(name) as tf.Tensor2D;
    const fromState = matMul2d(top, weight('attention/stateKernel'));
    const stateProj = wordQuery ? (tf.add(fromState, wordQuery) as tf.Tensor2D) : fromState;
    let alpha: tf.Tensor2D;
    // Σ_l α_l · values_l per row, values [images, L, n] → [rows, n].
    let attend: (values: tf.Tensor3D) => tf.Tensor2D;
    const coverageKernel = this.coverageKernel;
    if (coverageKernel && !state.coverage) throw new Error('A decoder with coverage needs the attention each cell has had so far.');
    // cov ⊗ wcov [rows, L, A], joined to the energy when the decoder has coverage.
    const covered = (energyPre: tf.Tensor): tf.Tensor => {
      if (!coverageKernel) return energyPre;
      const perCell = tf.mul(tf.expandDims(state.coverage!, 2), tf.reshape(coverageKernel, [1, 1, -1]));
      return tf.add(energyPre, rows === images ? perCell : tf.reshape(perCell, [images, rows / images, regions, -1]));
    };
    if (rows === images) {
      const energy = tf.tanh(covered(tf.add(gridProj, tf.expandDims(stateProj, 1))));
      const scores = tf.reshape(matMul2d(tf.reshape(energy, [rows * regions, this.options.attentionDim]) as tf.Tensor2D, weight('attention/score')), [rows, regions]);
      alpha = tf.softmax(scores) as tf.Tensor2D;
      attend = (values) => tf.reshape(tf.matMul(tf.expandDims(alpha, 1), values), [rows, -1]) as tf.Tensor2D;
    } else {
      // Beams sharing their image's grid (see selectRows): `beams` rows per image attend to one copy of it.
      const beams = rows / images;
      const energy = tf.tanh(covered(tf.add(tf.expandDims(gridProj, 1), tf.reshape(stateProj, [images, beams, 1, this.options.attentionDim]))));
      const scores = tf.reshape(matMul2d(tf.reshape(energy, [rows * regions, this.options.attentionDim]) as tf.Tensor2D, weight('attention/score')), [rows, regions]);
      alpha = tf.softmax(scores) as tf.Tensor2D;
      attend = (values) => tf.reshape(tf.matMul(tf.reshape(alpha, [images, beams, regions]), values), [rows, -1]) as tf.Tensor2D;
    }
    const gate = tf.sigmoid(
      fusedKernelsEnabled()
        ? linear(top, weight('attention/gateKernel'), p.get('attention/gateBias') as tf.Tensor1D)
        : tf.add(tf.matMul(top, p.get('attention/gateKernel')), p.get('attention/gateBias')),
    );
    // The gated context in the gates and in the deep output: (g·α·grid)·W, or g·α·(grid·W) from the projected grid.
    let intoGates: tf.Tensor2D;
    let intoOutput: tf.Tensor2D;
    const gatesWidth = p.get('attention/contextKernel').shape[1]!;
    const { units } = this.options;
    if (gridOut) {
      const gated = tf.mul(gate, attend(this.wordGlimpseKernel ? tf.slice(gridOut, [0, 0, 0], [-1, -1, gatesWidth + units]) : gridOut));
      [intoGates, intoOutput] = tf.split(gated, [gatesWidth, units], 1) as [tf.Tensor2D, tf.Tensor2D];
    } else {
      const gated = tf.mul(gate, attend(grid!)) as tf.Tensor2D;
      intoGates = matMul2d(gated, weight('attention/contextKernel'));
      intoOutput = matMul2d(gated, weight('attention/outputKernel'));
    }
    if (this.wordGlimpseKernel) {
      if (!word || !state.previousWords) throw new Error('A decoder with a word glimpse needs the word read and the words before it.');
      const values = gridOut ? (tf.slice(gridOut, [0, 0, gatesWidth + units], [-1, -1, units]) as tf.Tensor3D) : grid!;
      intoOutput = tf.add(intoOutput, this.wordGlimpse(word, state.previousWords, gridProj, values, Boolean(gridOut))) as tf.Tensor2D;
    }
    const layers: LayerState[] = [];
    let input = tf.add(xProj, intoGates) as tf.Tensor2D;
    for (let layer = 0; layer < this.recurrent.length; layer++) {
      const next = cellStep(this.recurrent[layer]!, input, state.layers[layer]!, mask);
      layers.push(next);
      if (layer + 1 < this.recurrent.length) input = projectInputs(this.recurrent[layer + 1]!, dropout.apply(next.h));
    }
    const deep = tf.add(layers[layers.length - 1]!.h, intoOutput) as tf.Tensor2D;
    const previous = this.wordGlimpseKernel ? { previousWords: this.shiftPreviousWords(word!, state.previousWords!) } : {};
    const coverage = state.coverage ? { coverage: tf.add(state.coverage, alpha) as tf.Tensor2D } : {};
    return { hidden: dropout.apply(deep), state: { ...state, layers, ...previous, ...coverage }, alpha };
  }

  /** init-inject and attention: tanh(W · image) split into every layer's h (and c). */
  private injectedState(image: tf.Tensor2D): LayerState[] {
    const values = tf.tanh(tf.add(tf.matMul(image, this.params.get('init/kernel')), this.params.get('init/bias')));
    const perLayer = this.options.cell === 'lstm' ? 2 : 1;
    const count = this.recurrent.length * perLayer;
    // tfjs' split gradient breaks on a single part, and there is nothing to split then.
    const parts = count === 1 ? [values as tf.Tensor2D] : (tf.split(values, count, 1) as tf.Tensor2D[]);
    return this.recurrent.map((_, layer) =>
      perLayer === 2 ? { h: parts[2 * layer]!, c: parts[2 * layer + 1]! } : { h: parts[layer]! },
    );
  }

  private projectImage(pooled: tf.Tensor2D): tf.Tensor2D {
    if (fusedKernelsEnabled()) return denseRelu(pooled, this.params.get('image/kernel') as tf.Tensor2D, this.params.get('image/bias') as tf.Tensor1D);
    return tf.relu(tf.add(tf.matMul(pooled, this.params.get('image/kernel')), this.params.get('image/bias'))) as tf.Tensor2D;
  }

  private mergeDense(x: tf.Tensor2D): tf.Tensor2D {
    if (fusedKernelsEnabled()) return denseRelu(x, this.params.get('merge/kernel') as tf.Tensor2D, this.params.get('merge/bias') as tf.Tensor1D);
    return tf.relu(tf.add(tf.matMul(x, this.params.get('merge/kernel')), this.params.get('merge/bias'))) as tf.Tensor2D;
  }

  private outputLogits(hidden: tf.Tensor2D): tf.Tensor2D {
    return tf.add(tf.matMul(hidden, this.outKernel), this.outBias);
  }

  private pooledOf(features: DecoderFeatures): tf.Tensor2D {
    if (features.pooled) return features.pooled;
    if (features.grid) return tf.mean(features.grid, 1) as tf.Tensor2D;
    throw new Error('The decoder got no image features.');
  }

  private gridOf(features: DecoderFeatures): tf.Tensor3D {
    if (features.grid) return features.grid;
    throw new Error('The attention decoder needs a spatial feature grid; this encoder gives only pooled vectors.');
  }

  dispose(): void {
    this.params.dispose();
  }
}
