/**
 * LSTM and GRU cells on raw tfjs ops. Why not tfjs-layers' LSTM: it runs
 * several small matmuls per gate and time step. Here each cell does one
 * matmul for all of its gates per step, and the input projection of a whole
 * sequence is one matmul done before the time loop (`projectInputs`).
 *
 * Gate layout in the fused weights: LSTM [i | f | g | o], GRU [z | r | n]
 * (GRU with the reset gate applied after the recurrent matmul, as cuDNN and
 * Keras' `reset_after` do, so the recurrent matmul stays fused).
 */
import * as tf from '@tensorflow/tfjs';
import type { RecurrentInit } from '../../../shared/runConfig';
import { gruSequence } from './fused/gruSequence';
import { linear } from './fused/linear';
import { lstmSequence } from './fused/lstmSequence';
import { fusedKernelsEnabled } from './fused/nativeOps';
import { ParamSet } from './params';
import type { Rng } from './rng';

export type CellKind = 'lstm' | 'gru';

export interface LayerState {
  h: tf.Tensor2D;
  /** LSTM cell state; absent for GRU. */
  c?: tf.Tensor2D;
}

export interface RecurrentLayer {
  kind: CellKind;
  units: number;
  inputDim: number;
  /** [inputDim, gates * units] */
  kernel: tf.Variable;
  /** [units, gates * units] */
  recurrent: tf.Variable;
  /** [gates * units], added with the input projection. */
  bias: tf.Variable;
  /** GRU only: [3 * units], added to the recurrent matmul (needed by reset-after). */
  recurrentBias?: tf.Variable;
}

export const gateCount = (kind: CellKind): number => (kind === 'lstm' ? 4 : 3);

export function createRecurrentLayer(
  params: ParamSet,
  prefix: string,
  kind: CellKind,
  inputDim: number,
  units: number,
  rng: Rng,
  recurrentInit: RecurrentInit = 'glorot',
): RecurrentLayer {
  const gates = gateCount(kind);
  const kernel = params.add(`${prefix}/kernel`, [inputDim, gates * units], { kind: 'glorot' }, rng);
  const recurrent = params.add(`${prefix}/recurrent`, [units, gates * units], { kind: recurrentInit }, rng);
  // LSTM: forget-gate bias 1, so early training keeps memory (Jozefowicz et al. 2015).
  const biasValues = { kind: 'zeros' as const };
  const bias = params.add(`${prefix}/bias`, [gates * units], biasValues, rng);
  if (kind === 'lstm') {
    tf.tidy(() => {
      const ones = tf.concat([tf.zeros([units]), tf.ones([units]), tf.zeros([2 * units])]);
      bias.assign(ones);
    });
  }
  const recurrentBias = kind === 'gru' ? params.add(`${prefix}/recurrentBias`, [gates * units], { kind: 'zeros' }, rng) : undefined;
  return { kind, units, inputDim, kernel, recurrent, bias, ...(recurrentBias ? { recurrentBias } : {}) };
}

/** x [N, inputDim] → [N, gates * units], the input part of every gate, bias included. One matmul. */
export function projectInputs(layer: RecurrentLayer, x: tf.Tensor2D): tf.Tensor2D {
  if (fusedKernelsEnabled()) return linear(x, layer.kernel as tf.Tensor2D, layer.bias as tf.Tensor1D);
  return tf.add(tf.matMul(x, layer.kernel), layer.bias);
}

/** a·b: on native TensorFlow the 2-D MatMul node (see fused/linear.ts), elsewhere tfjs' matMul. */
export function matMul2d(a: tf.Tensor2D, b: tf.Tensor2D): tf.Tensor2D {
  return fusedKernelsEnabled() ? linear(a, b) : tf.matMul(a, b);
}

export function zeroState(layer: RecurrentLayer, rows: number): LayerState {
  const h = tf.zeros([rows, layer.units]) as tf.Tensor2D;
  return layer.kind === 'lstm' ? { h, c: tf.zeros([rows, layer.units]) as tf.Tensor2D } : { h };
}

/**
 * One time step. `xProj` is the projected input [rows, gates * units];
 * `mask` [rows, 1] (1 = real token, 0 = padding) keeps the old state for
 * padded rows, so a padded step changes nothing.
 */
export function cellStep(layer: RecurrentLayer, xProj: tf.Tensor2D, state: LayerState, mask?: tf.Tensor2D): LayerState {
  const next = layer.kind === 'lstm' ? lstmStep(layer, xProj, state) : gruStep(layer, xProj, state);
  if (!mask) return next;
  const keep = (fresh: tf.Tensor2D, old: tf.Tensor2D) => tf.add(old, tf.mul(mask, tf.sub(fresh, old))) as tf.Tensor2D;
  return next.c && state.c ? { h: keep(next.h, state.h), c: keep(next.c, state.c) } : { h: keep(next.h, state.h) };
}

function lstmStep(layer: RecurrentLayer, xProj: tf.Tensor2D, state: LayerState): LayerState {
  if (!state.c) throw new Error('An LSTM state needs a cell state.');
  // (Not a fused matmul with xProj as its bias: backends only fuse a 1-D bias.)
  const z = tf.add(xProj, matMul2d(state.h, layer.recurrent as tf.Tensor2D));
  const [i, f, g, o] = tf.split(z, 4, 1) as [tf.Tensor2D, tf.Tensor2D, tf.Tensor2D, tf.Tensor2D];
  const c = tf.add(tf.mul(tf.sigmoid(f), state.c), tf.mul(tf.sigmoid(i), tf.tanh(g))) as tf.Tensor2D;
  const h = tf.mul(tf.sigmoid(o), tf.tanh(c)) as tf.Tensor2D;
  return { h, c };
}

function gruStep(layer: RecurrentLayer, xProj: tf.Tensor2D, state: LayerState): LayerState {
  if (!layer.recurrentBias) throw new Error('A GRU layer needs a recurrent bias.');
  const hProj = fusedKernelsEnabled()
    ? linear(state.h, layer.recurrent as tf.Tensor2D, layer.recurrentBias as tf.Tensor1D)
    : tf.fused.matMul({ a: state.h, b: layer.recurrent, bias: layer.recurrentBias });
  const [xz, xr, xn] = tf.split(xProj, 3, 1) as [tf.Tensor2D, tf.Tensor2D, tf.Tensor2D];
  const [hz, hr, hn] = tf.split(hProj, 3, 1) as [tf.Tensor2D, tf.Tensor2D, tf.Tensor2D];
  const z = tf.sigmoid(tf.add(xz, hz));
  const r = tf.sigmoid(tf.add(xr, hr));
  const n = tf.tanh(tf.add(xn, tf.mul(r, hn)));
  // h' = n + z * (h - n)  ==  (1 - z) * n + z * h
  const h = tf.add(n, tf.mul(z, tf.sub(state.h, n))) as tf.Tensor2D;
  return { h };
}

/**
 * The padding mask [B, T] as one [B, 1] column per step, only for steps
 * where some row is padding (`lengths`, the real steps of each row, tell
 * which without reading the tensor back); steps where every row is real
 * need no masking ops at all. Without `lengths` every step is masked.
 */
export function stepMasks(mask: tf.Tensor2D, lengths?: readonly number[]): Array<tf.Tensor2D | undefined> {
  const [batch, steps] = mask.shape;
  const firstPadded = lengths && lengths.length > 0 ? Math.min(...lengths) : 0;
  if (firstPadded >= steps) return new Array<undefined>(steps).fill(undefined);
  const columns = tf.unstack(tf.transpose(mask));
  return columns.map((column, t) => (t < firstPadded ? undefined : (tf.reshape(column, [batch, 1]) as tf.Tensor2D)));
}

/**
 * Runs a layer over a whole sequence: the input projection of all steps is one
 * matmul, then one fused recurrent matmul per step.
 * x [B, T, inputDim], masks from `stepMasks` → outputs [B, T, units] and the final state.
 */
export function runLayer(
  layer: RecurrentLayer,
  x: tf.Tensor3D,
  initial: LayerState,
  masks: ReadonlyArray<tf.Tensor2D | undefined> | null,
): { outputs: tf.Tensor3D; final: LayerState } {
  const [batch, steps, inputDim] = x.shape;
  const gates = gateCount(layer.kind) * layer.units;
  const projected = projectInputs(layer, tf.reshape(x, [batch * steps, inputDim]) as tf.Tensor2D);
  // Time-major once, then unstack: one op instead of a strided slice per step.
  const perStep = tf.unstack(tf.transpose(tf.reshape(projected, [batch, steps, gates]), [1, 0, 2])) as tf.Tensor2D[];
  let state = initial;
  const outputs: tf.Tensor2D[] = [];
  for (let t = 0; t < steps; t++) {
    state = cellStep(layer, perStep[t]!, state, masks?.[t]);
    outputs.push(state.h);
  }
  return { outputs: tf.stack(outputs, 1) as tf.Tensor3D, final: state };
}

/**
 * The outputs of a layer over a whole sequence [B, T, units], for teacher
 * forcing. On native TensorFlow one custom-gradient node runs the sequence
 * (BlockLSTMV2 for LSTMs, a written-out BPTT for GRUs; see fused/); they do
 * not hold the state on padded steps, which changes only outputs at padded
 * positions, and those carry no loss. Elsewhere `runLayer` with its masks.
 */
export function sequenceOutputs(
  layer: RecurrentLayer,
  x: tf.Tensor3D,
  initial: LayerState,
  masks: ReadonlyArray<tf.Tensor2D | undefined> | null,
): tf.Tensor3D {
  if (!fusedKernelsEnabled()) return runLayer(layer, x, initial, masks).outputs;
  if (layer.kind === 'lstm') {
    if (!initial.c) throw new Error('An LSTM state needs a cell state.');
    return lstmSequence(x, layer.kernel as tf.Tensor2D, layer.recurrent as tf.Tensor2D, layer.bias as tf.Tensor1D, initial.h, initial.c);
  }
  if (!layer.recurrentBias) throw new Error('A GRU layer needs a recurrent bias.');
  const [batch, steps, inputDim] = x.shape;
  const projected = tf.reshape(projectInputs(layer, tf.reshape(x, [batch * steps, inputDim]) as tf.Tensor2D), [batch, steps, 3 * layer.units]) as tf.Tensor3D;
  return gruSequence(projected, layer.recurrent as tf.Tensor2D, layer.recurrentBias as tf.Tensor1D, initial.h);
}
