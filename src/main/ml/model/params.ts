/**
 * Named trainable tensors with explicit ownership. Every weight of the
 * decoder and of the scratch CNN lives in a ParamSet, created from the run's
 * seeded generator, so weights are reproducible, countable, and serialize to
 * a checkpoint as plain Float32Arrays (and load back bit for bit).
 */
import * as tf from '@tensorflow/tfjs';
import type { Rng } from './rng';

export type Init =
  | { kind: 'zeros' }
  | { kind: 'constant'; value: number }
  /** Glorot/Xavier uniform over fan-in + fan-out (the last two dims; conv kernels use the receptive field). */
  | { kind: 'glorot' }
  /** He normal (ReLU convolutions): std sqrt(2 / fanIn). */
  | { kind: 'he' }
  /**
   * A random orthogonal matrix (Saxe et al. 2014; Keras' default for a recurrent kernel): the rows of a
   * [rows, cols] weight are orthonormal when rows ≤ cols, its columns otherwise. Repeated products with it
   * neither grow nor shrink a state, so early gradients through the recurrence keep their size.
   */
  | { kind: 'orthogonal' }
  | { kind: 'uniform'; limit: number };

export interface SerializedTensor {
  name: string;
  shape: number[];
  data: Float32Array;
}

function fans(shape: readonly number[]): { fanIn: number; fanOut: number } {
  if (shape.length < 2) return { fanIn: shape[0] ?? 1, fanOut: shape[0] ?? 1 };
  const receptive = shape.slice(0, -2).reduce((a, b) => a * b, 1);
  return { fanIn: shape[shape.length - 2]! * receptive, fanOut: shape[shape.length - 1]! * receptive };
}

/** The initial values of a weight, drawn in JavaScript so every backend starts from the same numbers. */
export function initialValues(shape: readonly number[], init: Init, rng: Rng): Float32Array {
  const size = shape.reduce((a, b) => a * b, 1);
  const data = new Float32Array(size);
  switch (init.kind) {
    case 'zeros':
      return data;
    case 'constant':
      return data.fill(init.value);
    case 'glorot': {
      const { fanIn, fanOut } = fans(shape);
      const limit = Math.sqrt(6 / (fanIn + fanOut));
      for (let i = 0; i < size; i++) data[i] = (rng.next() * 2 - 1) * limit;
      return data;
    }
    case 'he': {
      const std = Math.sqrt(2 / fans(shape).fanIn);
      for (let i = 0; i < size; i++) data[i] = rng.normal() * std;
      return data;
    }
    case 'uniform':
      for (let i = 0; i < size; i++) data[i] = (rng.next() * 2 - 1) * init.limit;
      return data;
    case 'orthogonal':
      return orthogonalValues(shape, rng);
  }
}

/**
 * Orthonormalises the shorter side's vectors of a standard normal matrix by modified Gram-Schmidt, which
 * gives the same distribution as QR with the signs of R's diagonal made positive (uniform over the
 * orthogonal matrices).
 */
function orthogonalValues(shape: readonly number[], rng: Rng): Float32Array {
  if (shape.length !== 2) throw new Error(`An orthogonal initializer needs a matrix (got shape [${shape.join(', ')}]).`);
  const [rows, cols] = shape as [number, number];
  const count = Math.min(rows, cols);
  const length = Math.max(rows, cols);
  const vectors = Array.from({ length: count }, () => Float64Array.from({ length }, () => rng.normal()));
  for (let i = 0; i < count; i++) {
    const v = vectors[i]!;
    for (let j = 0; j < i; j++) {
      const u = vectors[j]!;
      let dot = 0;
      for (let k = 0; k < length; k++) dot += v[k]! * u[k]!;
      for (let k = 0; k < length; k++) v[k] = v[k]! - dot * u[k]!;
    }
    let norm = 0;
    for (let k = 0; k < length; k++) norm += v[k]! * v[k]!;
    norm = Math.sqrt(norm);
    for (let k = 0; k < length; k++) v[k] = v[k]! / norm;
  }
  const data = new Float32Array(rows * cols);
  // Vector i is row i when rows ≤ cols, column i otherwise.
  for (let i = 0; i < count; i++) {
    for (let k = 0; k < length; k++) data[rows <= cols ? i * cols + k : k * cols + i] = vectors[i]![k]!;
  }
  return data;
}

export class ParamSet {
  private readonly vars = new Map<string, tf.Variable>();

  /**
   * Creates a trainable variable; names are unique within the set. With
   * `zeroRows` n, the last n rows of the first axis start at zero and the
   * others are drawn exactly as for the same weight without those rows
   * (same shape for the fan, same numbers from `rng`), so a model with n
   * extra inputs starts out computing exactly what the model without them
   * does.
   */
  add(name: string, shape: number[], init: Init, rng: Rng, zeroRows = 0): tf.Variable {
    if (this.vars.has(name)) throw new Error(`Parameter "${name}" is defined twice.`);
    const rows = shape[0] ?? 0;
    if (!Number.isInteger(zeroRows) || zeroRows < 0 || (zeroRows > 0 && zeroRows >= rows)) {
      throw new Error(`Parameter "${name}": ${zeroRows} zero rows do not fit its ${rows} rows.`);
    }
    let data = initialValues(zeroRows ? [rows - zeroRows, ...shape.slice(1)] : shape, init, rng);
    if (zeroRows) {
      const padded = new Float32Array(shape.reduce((a, b) => a * b, 1));
      padded.set(data);
      data = padded;
    }
    const values = tf.tensor(data, shape, 'float32');
    // tfjs keeps a process-wide registry of variable names; leave naming to it
    // and keep our own names here, so two models can coexist in one engine.
    const variable = tf.variable(values, true);
    values.dispose();
    this.vars.set(name, variable);
    return variable;
  }

  get(name: string): tf.Variable {
    const variable = this.vars.get(name);
    if (!variable) throw new Error(`No parameter "${name}".`);
    return variable;
  }

  has(name: string): boolean {
    return this.vars.has(name);
  }

  names(): string[] {
    return [...this.vars.keys()];
  }

  entries(): Array<[string, tf.Variable]> {
    return [...this.vars.entries()];
  }

  /** Number of scalar weights. */
  size(): number {
    let total = 0;
    for (const variable of this.vars.values()) total += variable.size;
    return total;
  }

  /** Copies every weight out of the backend. */
  async serialize(): Promise<SerializedTensor[]> {
    const out: SerializedTensor[] = [];
    for (const [name, variable] of this.vars) {
      out.push({ name, shape: [...variable.shape], data: (await variable.data()) as Float32Array });
    }
    return out;
  }

  /** Assigns saved weights, all or nothing (see `assignWeights`). */
  load(saved: readonly SerializedTensor[], source = 'checkpoint'): void {
    assignWeights(this.vars, saved, source);
  }

  dispose(): void {
    for (const variable of this.vars.values()) variable.dispose();
    this.vars.clear();
  }
}

/**
 * Assigns saved weights to named variables: every variable must have a
 * saved weight of its shape, and every saved weight must be one of the
 * variables. A weight the model does not have means the file describes
 * another model (one with an option this version does not know, say):
 * loading the rest would caption with part of the model missing, so it is
 * an error, not a skip. Everything is checked before anything is assigned.
 */
export function assignWeights(variables: Iterable<readonly [string, tf.Variable]>, saved: readonly SerializedTensor[], source: string): void {
  const byName = new Map(saved.map((tensor) => [tensor.name, tensor]));
  const targets = [...variables];
  const known = new Set(targets.map(([name]) => name));
  const unknown = saved.filter((tensor) => !known.has(tensor.name)).map((tensor) => `"${tensor.name}"`);
  if (unknown.length > 0) {
    const shown = unknown.slice(0, 3).join(', ') + (unknown.length > 3 ? ` and ${unknown.length - 3} more` : '');
    throw new Error(`${source} has weights that this model does not have: ${shown}. It was written for another model (or by a newer version of the workbench).`);
  }
  for (const [name, variable] of targets) {
    const tensor = byName.get(name);
    if (!tensor) throw new Error(`${source} has no weights for "${name}".`);
    if (tensor.shape.join('x') !== variable.shape.join('x')) {
      throw new Error(`${source}: "${name}" has shape [${tensor.shape}] but the model expects [${variable.shape}].`);
    }
  }
  for (const [name, variable] of targets) {
    const tensor = byName.get(name)!;
    tf.tidy(() => variable.assign(tf.tensor(tensor.data, tensor.shape, 'float32')));
  }
}
