/**
 * The inputs an attention sequence node may take beyond its fixed ones, in
 * a fixed order: the word query (`decoder.attentionWordQuery`), then the
 * coverage kernel (`decoder.attentionCoverage`). A tape node takes its
 * inputs as one list, so a layout says which are there, and the backward
 * pass returns their gradients in the same order.
 */
import * as tf from '@tensorflow/tfjs';
import type { RawOps } from './rawOps';

/** Which optional inputs follow a sequence node's fixed ones, in this order: the word query [B, T, A], then wcov [1, A]. */
export interface OptionalInputs {
  query: boolean;
  coverage: boolean;
}

/** The node's optional inputs in their order, and the layout that says which are there. */
export function optionalInputs(queryProj: tf.Tensor3D | undefined, coverageKernel: tf.Tensor2D | undefined): { layout: OptionalInputs; tensors: tf.Tensor[] } {
  return {
    layout: { query: Boolean(queryProj), coverage: Boolean(coverageKernel) },
    tensors: [...(queryProj ? [queryProj] : []), ...(coverageKernel ? [coverageKernel] : [])],
  };
}

/** Inside the node: the optional inputs after the `fixed` ones, and the save function, always last. */
export function readOptionalInputs(
  args: ReadonlyArray<tf.Tensor | tf.GradSaveFunc>,
  fixed: number,
  layout: OptionalInputs,
): { queryProj: tf.Tensor3D | null; coverageKernel: tf.Tensor2D | null; save: tf.GradSaveFunc } {
  const optional = args.slice(fixed, -1) as tf.Tensor[];
  const queryProj = layout.query ? (optional.shift() as tf.Tensor3D) : null;
  const coverageKernel = layout.coverage ? (optional.shift() as tf.Tensor2D) : null;
  return { queryProj, coverageKernel, save: args[args.length - 1] as tf.GradSaveFunc };
}

/**
 * The optional inputs' gradients, in their order: the word query's is that
 * of h·Ws (it is added to it), step-major [T·B, A] back to [B, T, A]; wcov's.
 */
export function optionalGradients(
  ops: RawOps,
  layout: OptionalInputs,
  dStateProjAll: tf.Tensor,
  shape: { steps: number; batch: number; attentionDim: number },
  dCoverageKernel: tf.Tensor | undefined,
): tf.Tensor[] {
  const out: tf.Tensor[] = [];
  if (layout.query) out.push(ops.transpose(ops.reshape(dStateProjAll, [shape.steps, shape.batch, shape.attentionDim]), [1, 0, 2]));
  if (layout.coverage) out.push(dCoverageKernel!);
  return out;
}
