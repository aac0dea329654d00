/**
 * Adam and AdamW over named parameters, with moment estimates held in
 * variables we own. tfjs has its own optimizers, but owning the state makes
 * a checkpoint carry exactly what a resumed run needs (moments by parameter
 * name and the step count), and lets each parameter group (decoder, a
 * fine-tuned encoder) follow its own learning rate.
 *
 * Update (Kingma & Ba 2015; decoupled decay from Loshchilov & Hutter 2019):
 *   m ← β1·m + (1−β1)·g        v ← β2·v + (1−β2)·g²
 *   θ ← θ − lr·( m̂ / (√v̂ + ε) + wd·θ )    with wd = 0 for Adam
 * where m̂ = m / (1−β1^t), v̂ = v / (1−β2^t).
 */
import * as tf from '@tensorflow/tfjs';
import { FusedAdamSlot } from '../model/fused/adamUpdate';
import { fusedKernelsEnabled, l2Loss } from '../model/fused/nativeOps';
import type { SerializedTensor } from '../model/params';

export interface AdamOptions {
  beta1: number;
  beta2: number;
  epsilon: number;
  /** Decoupled weight decay (AdamW); 0 gives plain Adam. */
  weightDecay: number;
}

export interface OptimizerState {
  step: number;
  m: SerializedTensor[];
  v: SerializedTensor[];
}

interface Slot {
  variable: tf.Variable;
  m: tf.Variable;
  v: tf.Variable;
  decay: boolean;
  /** Native TensorFlow: the slot's ResourceApplyAdam state, made on first use. */
  fused?: FusedAdamSlot;
}

export class AdamOptimizer {
  private readonly slots = new Map<string, Slot>();
  private stepCount = 0;

  /**
   * `params`: [name, variable] pairs. Weight decay skips biases and other
   * 1-D parameters, as is usual for AdamW.
   */
  constructor(
    params: ReadonlyArray<readonly [string, tf.Variable]>,
    private readonly options: AdamOptions,
  ) {
    for (const [name, variable] of params) this.addParam(name, variable);
  }

  /** Adds parameters later (e.g. encoder layers when fine-tuning starts). */
  addParam(name: string, variable: tf.Variable): void {
    if (this.slots.has(name)) throw new Error(`The optimizer already has a parameter "${name}".`);
    const zeros = () => tf.tidy(() => tf.variable(tf.zerosLike(variable), false));
    this.slots.set(name, { variable, m: zeros(), v: zeros(), decay: variable.rank > 1 });
  }

  has(name: string): boolean {
    return this.slots.has(name);
  }

  get step(): number {
    return this.stepCount;
  }

  /**
   * Applies one update. `grads` by parameter name (missing names are left
   * alone); `learningRate` per parameter name or one for all.
   */
  apply(grads: Record<string, tf.Tensor>, learningRate: number | ((name: string) => number)): void {
    // The count moves only once the update is made: a step that fails midway (see ml/graph/) can be run again.
    const t = this.stepCount + 1;
    const { beta1, beta2, epsilon, weightDecay } = this.options;
    const correction1 = 1 - beta1 ** t;
    const correction2 = 1 - beta2 ** t;
    const fused = fusedKernelsEnabled();
    tf.tidy(() => {
      for (const [name, slot] of this.slots) {
        const grad = grads[name];
        if (!grad) continue;
        const lr = typeof learningRate === 'number' ? learningRate : learningRate(name);
        if (fused) {
          // One kernel per parameter (see fused/adamUpdate.ts); decoupled decay first, as Adam's part does not read θ.
          const decayed = weightDecay > 0 && slot.decay ? tf.mul(slot.variable, 1 - lr * weightDecay) : slot.variable;
          slot.fused ??= new FusedAdamSlot(slot.variable.shape);
          slot.fused.apply(slot.variable, decayed, slot.m, slot.v, grad, { learningRate: lr, beta1, beta2, epsilon, step: t });
          continue;
        }
        const m = tf.add(tf.mul(slot.m, beta1), tf.mul(grad, 1 - beta1));
        const v = tf.add(tf.mul(slot.v, beta2), tf.mul(tf.square(grad), 1 - beta2));
        slot.m.assign(m);
        slot.v.assign(v);
        let update = tf.div(tf.div(m, correction1), tf.add(tf.sqrt(tf.div(v, correction2)), epsilon));
        if (weightDecay > 0 && slot.decay) update = tf.add(update, tf.mul(slot.variable, weightDecay));
        slot.variable.assign(tf.sub(slot.variable, tf.mul(update, lr)));
      }
    });
    this.stepCount = t;
  }

  async serialize(): Promise<OptimizerState> {
    const m: SerializedTensor[] = [];
    const v: SerializedTensor[] = [];
    for (const [name, slot] of this.slots) {
      m.push({ name, shape: [...slot.m.shape], data: (await slot.m.data()) as Float32Array });
      v.push({ name, shape: [...slot.v.shape], data: (await slot.v.data()) as Float32Array });
    }
    return { step: this.stepCount, m, v };
  }

  /** Restores moments saved by `serialize`; parameters missing from the save start from zero. */
  load(state: OptimizerState): void {
    this.stepCount = state.step;
    const byName = (list: SerializedTensor[]) => new Map(list.map((tensor) => [tensor.name, tensor]));
    const ms = byName(state.m);
    const vs = byName(state.v);
    for (const [name, slot] of this.slots) {
      for (const [saved, target] of [
        [ms.get(name), slot.m],
        [vs.get(name), slot.v],
      ] as const) {
        if (!saved) continue;
        if (saved.shape.join('x') !== target.shape.join('x')) {
          throw new Error(`Optimizer state for "${name}" has shape [${saved.shape}], expected [${target.shape}].`);
        }
        tf.tidy(() => target.assign(tf.tensor(saved.data, saved.shape, 'float32')));
      }
    }
  }

  dispose(): void {
    for (const slot of this.slots.values()) {
      slot.m.dispose();
      slot.v.dispose();
      slot.fused?.dispose();
    }
    this.slots.clear();
  }
}

/**
 * Scales gradients so their global L2 norm is at most `maxNorm` (Pascanu et
 * al. 2013); returns the clipped gradients and the norm before clipping.
 * `maxNorm` ≤ 0 only measures. Call inside a tidy.
 */
export function clipByGlobalNorm(grads: Record<string, tf.Tensor>, maxNorm: number): { grads: Record<string, tf.Tensor>; norm: tf.Scalar } {
  // Native TensorFlow: L2Loss (Σx²/2) is one pass without a squared copy.
  const sumOfSquares = fusedKernelsEnabled() ? (g: tf.Tensor) => tf.mul(l2Loss(g), 2) : (g: tf.Tensor) => tf.sum(tf.square(g));
  const squares = Object.values(grads).map(sumOfSquares);
  const norm = tf.sqrt(squares.length > 0 ? tf.addN(squares) : tf.scalar(0)) as tf.Scalar;
  if (maxNorm <= 0) return { grads, norm };
  const scale = tf.minimum(1, tf.div(maxNorm, tf.add(norm, 1e-6)));
  const clipped: Record<string, tf.Tensor> = {};
  for (const [name, grad] of Object.entries(grads)) clipped[name] = tf.mul(grad, scale);
  return { grads: clipped, norm };
}
