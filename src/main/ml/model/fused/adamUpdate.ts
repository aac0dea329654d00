/**
 * One Adam update of a parameter as TensorFlow's `ResourceApplyAdam` kernel:
 * a single pass over the parameter, its moments and its gradient, where the
 * same update written with tfjs ops takes about fifteen (each allocating a
 * new tensor the size of the parameter). That kernel updates resource
 * variables in place, so each slot keeps three TensorFlow resource variables
 * (parameter, m, v) next to the tfjs variables, which stay the state of
 * record: values are assigned in, updated, and read back (a read shares the
 * buffer; no copy).
 *
 * Same update as AdamOptimizer's: TensorFlow computes
 *   lr_t = lr·√(1 − β2^t) / (1 − β1^t),   θ −= lr_t · m / (√v + ε̂)
 * which is ours, lr·m̂ / (√v̂ + ε), when ε̂ = ε·√(1 − β2^t).
 */
import * as tf from '@tensorflow/tfjs';
import { attr, runOp, type OpAttr } from './nativeOps';

let nextResource = 0;

/** A TensorFlow resource variable of a fixed shape (float32), held by its handle. */
class ResourceVariable {
  private readonly handle: tf.Tensor;

  constructor(private readonly shape: readonly number[]) {
    const name = `captioner_adam_${process.pid}_${nextResource++}`;
    this.handle = tf.tidy(() =>
      tf.keep(
        runOp(
          'VarHandleOp',
          [
            attr.string('container', ''),
            attr.string('shared_name', name),
            attr.float32Type('dtype'),
            attr.shape('shape', shape),
          ],
          [],
          1,
        )[0]!,
      ),
    );
  }

  get input(): tf.Tensor {
    return this.handle;
  }

  assign(value: tf.Tensor): void {
    runOp('AssignVariableOp', [attr.float32Type('dtype')], [this.handle, value], 0);
  }

  read(): tf.Tensor {
    return tf.reshape(runOp('ReadVariableOp', [attr.float32Type('dtype')], [this.handle], 1)[0]!, this.shape as number[]);
  }

  dispose(): void {
    runOp('DestroyResourceOp', [attr.bool('ignore_lookup_error', true)], [this.handle], 0);
    this.handle.dispose();
  }
}

export interface AdamStep {
  learningRate: number;
  beta1: number;
  beta2: number;
  epsilon: number;
  /** The step number t (1 for the first update). */
  step: number;
}

/** The resource variables of one parameter; `apply` updates the tfjs variables it is given. */
export class FusedAdamSlot {
  private readonly resources: [ResourceVariable, ResourceVariable, ResourceVariable];

  constructor(shape: readonly number[]) {
    this.resources = [new ResourceVariable(shape), new ResourceVariable(shape), new ResourceVariable(shape)];
  }

  /** θ, m, v ← Adam(θ, m, v, grad). `value` is θ as it enters the update (after weight decay, if any). */
  apply(variable: tf.Variable, value: tf.Tensor, m: tf.Variable, v: tf.Variable, grad: tf.Tensor, s: AdamStep): void {
    tf.tidy(() => {
      const [theta, first, second] = this.resources;
      theta.assign(value);
      first.assign(m);
      second.assign(v);
      const scalar = (x: number) => tf.scalar(x, 'float32');
      const attrs: OpAttr[] = [attr.float32Type(), attr.bool('use_locking', false), attr.bool('use_nesterov', false)];
      runOp(
        'ResourceApplyAdam',
        attrs,
        [
          theta.input,
          first.input,
          second.input,
          scalar(s.beta1 ** s.step),
          scalar(s.beta2 ** s.step),
          scalar(s.learningRate),
          scalar(s.beta1),
          scalar(s.beta2),
          scalar(s.epsilon * Math.sqrt(1 - s.beta2 ** s.step)),
          grad,
        ],
        0,
      );
      variable.assign(theta.read());
      m.assign(first.read());
      v.assign(second.read());
    });
  }

  dispose(): void {
    for (const resource of this.resources) resource.dispose();
  }
}
