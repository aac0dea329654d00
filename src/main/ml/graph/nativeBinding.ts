/**
 * The parts of tfjs-node's backend that graph steps work through: its
 * binding (every eager op, upload, read and release of a TensorFlow tensor
 * handle goes through `binding.executeOp`, `createTensor`, `tensorDataSync`
 * and `deleteTensor`) and its table from tfjs data ids to handle ids.
 *
 * `withBindingHooks` routes those calls through hooks for the length of one
 * synchronous call and restores the binding after it, whatever happens:
 * that is how a step is traced (ops run and are written down) or captured
 * (ops are only written down, to be run as one graph).
 */
import * as tf from '@tensorflow/tfjs';
import type { GraphAttr } from './savedModel';

export interface TensorMeta {
  /** TensorFlow's DataType enum (1 float32, 3 int32, 9 int64, 20 resource, ...). */
  dtype: number;
  shape: number[];
}

export interface HandleMeta extends TensorMeta {
  id: number;
}

export interface Binding {
  executeOp(name: string, attrs: GraphAttr[], inputIds: number[], outputs: number): HandleMeta[];
  createTensor(shape: number[], dtype: number, values: unknown): number;
  deleteTensor(id: number): void;
  tensorDataSync(id: number): unknown;
  loadSavedModel(folder: string, tags: string): number;
  runSavedModel(session: number, inputIds: number[], inputNames: string, outputNames: string): HandleMeta[];
  deleteSavedModel(session: number): void;
  TF_INT64: number;
  TF_RESOURCE: number;
}

interface HandleInfo {
  id: number;
  dtype: number;
  shape: number[];
}

export interface KernelBackend {
  binding: Binding;
  tensorMap: { get(dataId: object): HandleInfo | undefined; has(dataId: object): boolean };
  getInputTensorIds(tensors: unknown[]): number[];
  createOutputTensor(meta: HandleMeta): tf.Tensor;
}

/** tfjs-node's backend; throws on any other. */
export function kernelBackend(): KernelBackend {
  const backend = tf.backend() as unknown as Partial<KernelBackend>;
  if (tf.getBackend() !== 'tensorflow' || !backend.binding || typeof backend.getInputTensorIds !== 'function') {
    throw new Error(`Graph steps need the native backend (the active one is "${tf.getBackend()}").`);
  }
  return backend as KernelBackend;
}

export interface BindingHooks {
  executeOp?(name: string, attrs: GraphAttr[], inputIds: number[], outputs: number): HandleMeta[];
  deleteTensor?(id: number): void;
  tensorDataSync?(id: number): unknown;
  /** Sees each op's inputs as tfjs tensors (or tfjs-node's int64 scalars) beside the handle ids they became. */
  inputsResolved?(tensors: unknown[], ids: number[]): void;
  /** Sees each tensor the backend makes from an op's output. */
  outputMade?(meta: HandleMeta, tensor: tf.Tensor): void;
}

/**
 * Runs `body` with the backend's binding calls going through `hooks` (the
 * real binding answers what a hook leaves out); the backend is as before
 * once `body` returns or throws. Not reentrant.
 */
export function withBindingHooks<T>(backend: KernelBackend, hooks: BindingHooks, body: () => T): T {
  const real = backend.binding;
  // The binding's own properties are read-only, so an override must be defined, not assigned.
  const hooked = Object.create(real, {
    executeOp: { value: hooks.executeOp ?? real.executeOp.bind(real) },
    deleteTensor: { value: hooks.deleteTensor ?? real.deleteTensor.bind(real) },
    tensorDataSync: { value: hooks.tensorDataSync ?? real.tensorDataSync.bind(real) },
    createTensor: { value: real.createTensor.bind(real) },
  }) as Binding;
  const instance = backend as unknown as Record<string, unknown>;
  const resolveIds = backend.getInputTensorIds;
  const makeOutput = backend.createOutputTensor;
  backend.binding = hooked;
  if (hooks.inputsResolved) {
    const seen = hooks.inputsResolved;
    instance.getInputTensorIds = function (this: KernelBackend, tensors: unknown[]) {
      const ids = resolveIds.call(this, tensors);
      seen(tensors, ids);
      return ids;
    };
  }
  if (hooks.outputMade) {
    const seen = hooks.outputMade;
    instance.createOutputTensor = function (this: KernelBackend, meta: HandleMeta) {
      const tensor = makeOutput.call(this, meta);
      seen(meta, tensor);
      return tensor;
    };
  }
  try {
    return body();
  } finally {
    backend.binding = real;
    delete instance.getInputTensorIds;
    delete instance.createOutputTensor;
  }
}

/** Each input's dtype and shape, as `inputsResolved` sees them (tfjs-node's Int64Scalar has no data id). */
export function inputMetas(backend: KernelBackend, tensors: unknown[]): TensorMeta[] {
  return tensors.map((tensor) => {
    const dataId = (tensor as { dataId?: object }).dataId;
    if (!dataId) return { dtype: backend.binding.TF_INT64, shape: [] };
    const info = backend.tensorMap.get(dataId);
    if (!info) throw new Error('Graph steps: an op input has no TensorFlow handle.');
    return { dtype: info.dtype, shape: [...info.shape] };
  });
}
