/**
 * tfjs-node's gather (`GatherV2`) reads every index back to JavaScript to
 * check its range before it runs TensorFlow's kernel, which checks the same
 * range itself ("indices[3] = 7 is not in [0, 5)"). That read is a pause in
 * every embedding lookup, and it is what keeps a training step from running
 * as a graph (ml/graph/: a step may not read values mid-way). This kernel is
 * the same call without the JavaScript check; registered over tfjs-node's
 * when the native backend loads.
 */
import * as tf from '@tensorflow/tfjs';

interface NativeKernelBackend {
  binding: { TF_ATTR_INT: number; TF_ATTR_TYPE: number; TF_INT32: number };
  /** tfjs-node's own dtype → TensorFlow DataType mapping (it throws on a dtype TensorFlow lacks). */
  getDTypeInteger(dtype: tf.DataType): number;
  executeSingleOutput(name: string, attrs: object[], inputs: tf.TensorInfo[]): tf.TensorInfo;
}

function gatherV2({ inputs, attrs, backend }: { inputs: tf.NamedTensorInfoMap; attrs?: tf.NamedAttrMap; backend: unknown }): tf.TensorInfo {
  const native = backend as NativeKernelBackend;
  const x = inputs.x!;
  const indices = inputs.indices!;
  const axis = (attrs?.axis as number) ?? 0;
  const batchDims = (attrs?.batchDims as number) ?? 0;
  // The shape checks tfjs-node makes (they read no values).
  tf.backend_util.segment_util.collectGatherOpShapeInfo(x as tf.Tensor, indices as tf.Tensor, axis, batchDims);
  const axisTensor = tf.scalar(axis, 'int32');
  try {
    const { TF_ATTR_INT, TF_ATTR_TYPE, TF_INT32 } = native.binding;
    return native.executeSingleOutput(
      'GatherV2',
      [
        { name: 'batch_dims', type: TF_ATTR_INT, value: batchDims },
        { name: 'Tparams', type: TF_ATTR_TYPE, value: native.getDTypeInteger(x.dtype) },
        { name: 'Tindices', type: TF_ATTR_TYPE, value: native.getDTypeInteger(indices.dtype) },
        { name: 'Taxis', type: TF_ATTR_TYPE, value: TF_INT32 },
      ],
      [x, indices, axisTensor],
    );
  } finally {
    axisTensor.dispose();
  }
}

/** Puts this gather in place of tfjs-node's (once the native backend is registered). */
export function registerNativeGather(): void {
  tf.unregisterKernel('GatherV2', 'tensorflow');
  tf.registerKernel({ kernelName: 'GatherV2', backendName: 'tensorflow', kernelFunc: gatherV2 as unknown as tf.KernelFunc });
}
