/**
 * Plain float32 TensorFlow ops by name for the inside of the fused sequence
 * nodes, where nothing is taped. Two per-call costs of tfjs' own kernels go:
 * their bookkeeping (shape checks, the tape test, kernel lookup) and, for
 * reshape, split, concat, transpose and sum, a new int32 tensor for the
 * shape or axis uploaded to TensorFlow on every call. Here those operands
 * are made once per `RawOps` (one per forward or backward pass, released
 * with its tidy scope) and reused; a sequence node runs the same few shapes
 * every step. Same TensorFlow kernels as tfjs' ops, so the same numbers.
 */
import * as tf from '@tensorflow/tfjs';
import { attr, runOp, type OpAttr } from './nativeOps';

export class RawOps {
  private readonly ints = new Map<string, tf.Tensor>();
  private readonly floatType: OpAttr[] = [attr.float32Type()];

  /** An int32 operand (scalar for a number), made on first use. */
  private int(values: number | readonly number[]): tf.Tensor {
    const key = typeof values === 'number' ? `s${values}` : values.join(',');
    let tensor = this.ints.get(key);
    if (!tensor) {
      tensor = typeof values === 'number' ? tf.scalar(values, 'int32') : tf.tensor1d([...values], 'int32');
      this.ints.set(key, tensor);
    }
    return tensor;
  }

  private one(name: string, inputs: tf.Tensor[], attrs: OpAttr[] = this.floatType): tf.Tensor {
    return runOp(name, attrs, inputs, 1)[0]!;
  }

  add<T extends tf.Tensor>(a: tf.Tensor, b: tf.Tensor): T {
    return this.one('AddV2', [a, b]) as T;
  }
  sub<T extends tf.Tensor>(a: tf.Tensor, b: tf.Tensor): T {
    return this.one('Sub', [a, b]) as T;
  }
  mul<T extends tf.Tensor>(a: tf.Tensor, b: tf.Tensor): T {
    return this.one('Mul', [a, b]) as T;
  }
  tanh<T extends tf.Tensor>(x: T): T {
    return this.one('Tanh', [x]) as T;
  }
  sigmoid<T extends tf.Tensor>(x: T): T {
    return this.one('Sigmoid', [x]) as T;
  }
  /** Softmax over the last axis. */
  softmax<T extends tf.Tensor>(x: T): T {
    return this.one('Softmax', [x]) as T;
  }

  reshape<T extends tf.Tensor>(x: tf.Tensor, shape: readonly number[]): T {
    return this.one('Reshape', [x, this.int(shape)], [attr.float32Type(), attr.int32Type('Tshape')]) as T;
  }
  transpose<T extends tf.Tensor>(x: tf.Tensor, perm: readonly number[]): T {
    return this.one('Transpose', [x, this.int(perm)], [attr.float32Type(), attr.int32Type('Tperm')]) as T;
  }
  sum<T extends tf.Tensor>(x: tf.Tensor, axis: number, keepDims: boolean): T {
    return this.one('Sum', [x, this.int([axis])], [attr.bool('keep_dims', keepDims), attr.float32Type(), attr.int32Type('Tidx')]) as T;
  }
  concat<T extends tf.Tensor>(xs: readonly tf.Tensor[], axis: number): T {
    return this.one('ConcatV2', [...xs, this.int(axis)], [attr.int('N', xs.length), attr.float32Type(), attr.int32Type('Tidx')]) as T;
  }
  /** Parts of `sizes` along `axis`. */
  split<T extends tf.Tensor>(x: tf.Tensor, sizes: readonly number[], axis: number): T[] {
    return runOp('SplitV', [attr.int('num_split', sizes.length), attr.float32Type(), attr.int32Type('Tlen')], [x, this.int(sizes), this.int(axis)], sizes.length) as T[];
  }
  stack<T extends tf.Tensor>(xs: readonly tf.Tensor[], axis = 0): T {
    return this.one('Pack', [...xs], [attr.int('N', xs.length), attr.float32Type(), attr.int('axis', axis)]) as T;
  }
  unstack<T extends tf.Tensor>(x: tf.Tensor, axis = 0): T[] {
    const count = x.shape[axis]!;
    return runOp('Unpack', [attr.int('num', count), attr.float32Type(), attr.int('axis', axis)], [x], count) as T[];
  }
}
