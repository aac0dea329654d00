/**
 * Raw TensorFlow ops by name on the native backend. tfjs-node's binding can
 * execute any op of the TensorFlow library it is linked against; tfjs itself
 * only exposes the ones it has kernels for. The fused kernels used for
 * training (BlockLSTMV2 and its gradient, SparseSoftmaxCrossEntropyWithLogits,
 * MatMul with transpose attributes) go through here.
 *
 * Ops run eagerly and synchronously; their outputs are ordinary tfjs tensors
 * (tracked by tidy), but they are not recorded on the gradient tape: callers
 * wrap them in `tf.customGrad` with the matching gradient op.
 *
 * Whether the fused paths are used: on the native backend by default;
 * `CAPTIONER_FUSED_KERNELS=0` or `setFusedKernels(false)` turns them off
 * (the reference ops then run everywhere, as on the JS backends).
 */
import * as tf from '@tensorflow/tfjs';
import { requireFromNativePackage } from '../../backend/native';

/** The parts of tfjs-node's backend and binding used here. */
interface NativeBinding {
  TF_FLOAT: number;
  TF_INT32: number;
  TF_ATTR_INT: number;
  TF_ATTR_FLOAT: number;
  TF_ATTR_BOOL: number;
  TF_ATTR_TYPE: number;
  TF_ATTR_STRING: number;
  TF_ATTR_SHAPE: number;
}

interface NativeBackend {
  binding: NativeBinding;
  tensorMap: { get(dataId: object): { id: number } | undefined };
  executeMultipleOutputs(name: string, attrs: OpAttr[], inputs: unknown[], outputs: number): tf.Tensor[];
}

export interface OpAttr {
  name: string;
  type: number;
  value: number | boolean | string | number[];
}

type Int64ScalarClass = new (value: number) => object;

let override: boolean | null = null;
let randomOverride: boolean | null = null;

/** Forces the fused kernels on or off (tests compare both paths); null restores the default. */
export function setFusedKernels(enabled: boolean | null): void {
  override = enabled;
}

/** True when the native backend is active and the fused kernels are not turned off. */
export function fusedKernelsEnabled(): boolean {
  if (tf.getBackend() !== 'tensorflow') return false;
  if (override !== null) return override;
  return process.env.CAPTIONER_FUSED_KERNELS !== '0';
}

/**
 * Whether dropout masks are drawn by TensorFlow (StatelessRandomUniform)
 * rather than in JavaScript: on the native backend by default, separate from
 * the kernels so both kernel paths can be compared with the same masks.
 * `CAPTIONER_FUSED_KERNELS=0` turns this off too.
 */
export function nativeRandomEnabled(): boolean {
  if (tf.getBackend() !== 'tensorflow') return false;
  if (randomOverride !== null) return randomOverride;
  return process.env.CAPTIONER_FUSED_KERNELS !== '0';
}

/** Forces native dropout masks on or off; null restores the default. */
export function setNativeRandom(enabled: boolean | null): void {
  randomOverride = enabled;
}

function nativeBackend(): NativeBackend {
  const backend = tf.backend() as unknown as Partial<NativeBackend>;
  if (tf.getBackend() !== 'tensorflow' || typeof backend.executeMultipleOutputs !== 'function' || !backend.binding) {
    throw new Error(`Raw TensorFlow ops need the native backend (the active one is "${tf.getBackend()}").`);
  }
  return backend as NativeBackend;
}

let int64Scalar: Int64ScalarClass | null = null;

/** An int64 scalar input (e.g. BlockLSTM's seq_len_max); tfjs has no int64 tensors. */
export function int64(value: number): object {
  if (!int64Scalar) {
    const loaded = requireFromNativePackage('./dist/int64_tensors.js') as { Int64Scalar?: Int64ScalarClass } | null;
    if (!loaded?.Int64Scalar) throw new Error('The native tfjs-node package has no Int64Scalar (dist/int64_tensors.js).');
    int64Scalar = loaded.Int64Scalar;
  }
  return new int64Scalar(value);
}

/** Attribute builders: `T` = float32 and friends. */
export const attr = {
  float32Type: (name = 'T'): OpAttr => ({ name, type: nativeBackend().binding.TF_ATTR_TYPE, value: nativeBackend().binding.TF_FLOAT }),
  int32Type: (name: string): OpAttr => ({ name, type: nativeBackend().binding.TF_ATTR_TYPE, value: nativeBackend().binding.TF_INT32 }),
  bool: (name: string, value: boolean): OpAttr => ({ name, type: nativeBackend().binding.TF_ATTR_BOOL, value }),
  float: (name: string, value: number): OpAttr => ({ name, type: nativeBackend().binding.TF_ATTR_FLOAT, value }),
  int: (name: string, value: number): OpAttr => ({ name, type: nativeBackend().binding.TF_ATTR_INT, value }),
  string: (name: string, value: string): OpAttr => ({ name, type: nativeBackend().binding.TF_ATTR_STRING, value }),
  shape: (name: string, value: readonly number[]): OpAttr => ({ name, type: nativeBackend().binding.TF_ATTR_SHAPE, value: [...value] }),
};

/** Wall time and process CPU time (all threads) of one op, in milliseconds. */
type OpRecorder = (name: string, wallMs: number, cpuMs: number) => void;
let recorder: OpRecorder | null = null;

/** Reports the wall time of every raw op to `record` (profiling; tfjs' profiler does not see these ops), or stops. */
export function recordRawOps(record: OpRecorder | null): void {
  recorder = record;
}

/**
 * The attributes of each live VarHandleOp's handle, by the handle's id in
 * the binding: a step traced into a graph (ml/graph/) takes the handle as an
 * input and makes it anew in the graph from these.
 */
const handleAttrs = new Map<number, OpAttr[]>();

/** The VarHandleOp attributes a resource handle was made with, if it was made by `runOp`. */
export function resourceHandleAttrs(handleId: number): OpAttr[] | undefined {
  return handleAttrs.get(handleId);
}

function noteResourceHandles(name: string, attrs: OpAttr[], inputs: Array<tf.Tensor | object>, result: tf.Tensor[]): void {
  const handleId = (tensor: tf.Tensor | object) => ('dataId' in tensor ? nativeBackend().tensorMap.get(tensor.dataId)?.id : undefined);
  if (name === 'VarHandleOp') {
    const id = handleId(result[0]!);
    if (id !== undefined) handleAttrs.set(id, attrs);
  } else if (name === 'DestroyResourceOp') {
    const id = handleId(inputs[0]!);
    if (id !== undefined) handleAttrs.delete(id);
  }
}

/** Runs TensorFlow op `name` eagerly; returns its `outputs` outputs as tfjs tensors. */
export function runOp(name: string, attrs: OpAttr[], inputs: Array<tf.Tensor | object>, outputs: number): tf.Tensor[] {
  if (name === 'VarHandleOp' || name === 'DestroyResourceOp') {
    const result = nativeBackend().executeMultipleOutputs(name, attrs, inputs, outputs);
    noteResourceHandles(name, attrs, inputs, result);
    return result;
  }
  if (!recorder) return nativeBackend().executeMultipleOutputs(name, attrs, inputs, outputs);
  const started = performance.now();
  const cpu = process.cpuUsage();
  const result = nativeBackend().executeMultipleOutputs(name, attrs, inputs, outputs);
  const used = process.cpuUsage(cpu);
  recorder(name, performance.now() - started, (used.user + used.system) / 1000);
  return result;
}

/** `MatMul` with transpose attributes: a · b, aᵀ · b or a · bᵀ without a transposed copy. */
export function matMul(a: tf.Tensor2D, b: tf.Tensor2D, transposeA = false, transposeB = false): tf.Tensor2D {
  return runOp('MatMul', [attr.bool('transpose_a', transposeA), attr.bool('transpose_b', transposeB), attr.float32Type()], [a, b], 1)[0] as tf.Tensor2D;
}

/** Σx²/2 over all elements (`L2Loss`): a norm without a squared copy of x. */
export function l2Loss(x: tf.Tensor): tf.Scalar {
  return runOp('L2Loss', [attr.float32Type()], [x], 1)[0] as tf.Scalar;
}
