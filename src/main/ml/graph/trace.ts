/**
 * A trace: the TensorFlow ops one call made, in order, with their attributes
 * and where each input came from. An input is either an earlier op's output
 * or an external: a tensor the call did not make with an op (a variable's
 * value, an uploaded batch, a scalar such as the learning rate, an int64
 * scalar). Externals are numbered by first use; a graph built from the trace
 * takes them as Placeholders, so every value is fed anew on each run and
 * only the structure (ops, attributes, wiring) is fixed.
 *
 * Recording runs the ops for real; a trace is refused (the call stays eager)
 * when the call reads a value back to JavaScript, since the ops after that
 * read may depend on it.
 */
import type { GraphAttr } from './savedModel';
import { inputMetas, withBindingHooks, type KernelBackend, type TensorMeta } from './nativeBinding';

export type Source = { kind: 'op'; op: number; output: number } | { kind: 'external'; index: number };

export interface TracedOp {
  name: string;
  attrs: GraphAttr[];
  /** The attributes as one string, to compare a replayed op with the traced one. */
  attrsKey: string;
  inputs: Source[];
  outputs: TensorMeta[];
}

export interface External {
  meta: TensorMeta;
  /** For a resource handle made by a VarHandleOp before the call: that op's attributes, to make it in the graph. */
  handleAttrs?: GraphAttr[];
}

export interface Trace {
  ops: TracedOp[];
  externals: External[];
}

export type TraceOutcome<T> = { result: T; trace: Trace; refusal: null } | { result: T; trace: null; refusal: string };

export const attrsKey = (attrs: readonly GraphAttr[]): string => JSON.stringify(attrs);

/**
 * Runs `body` and writes down its ops. `handleAttrs(id)` answers the
 * VarHandleOp attributes of a resource handle made earlier (or undefined).
 */
export function recordTrace<T>(backend: KernelBackend, body: () => T, handleAttrs: (id: number) => GraphAttr[] | undefined): TraceOutcome<T> {
  const ops: TracedOp[] = [];
  const externals: External[] = [];
  const producedBy = new Map<number, Source>();
  const externalIndex = new Map<number, number>();
  const metaOf = new Map<number, TensorMeta>();
  let refusal: string | null = null;
  const real = backend.binding;

  const sourceOf = (id: number): Source => {
    const produced = producedBy.get(id);
    if (produced) return produced;
    let index = externalIndex.get(id);
    if (index === undefined) {
      const meta = metaOf.get(id);
      if (!meta) throw new Error(`Graph steps: no dtype and shape known for input handle ${id}.`);
      const external: External = { meta };
      if (meta.dtype === real.TF_RESOURCE) {
        const attrs = handleAttrs(id);
        if (attrs) external.handleAttrs = attrs;
        else refusal ??= 'an op takes a resource handle that was not made by a VarHandleOp';
      }
      index = externals.push(external) - 1;
      externalIndex.set(id, index);
    }
    return { kind: 'external', index };
  };

  const result = withBindingHooks(
    backend,
    {
      inputsResolved(tensors, ids) {
        const metas = inputMetas(backend, tensors);
        ids.forEach((id, slot) => metaOf.set(id, metas[slot]!));
      },
      executeOp(name, attrs, inputIds, outputs) {
        const inputs = inputIds.map(sourceOf);
        const made = real.executeOp(name, attrs, inputIds, outputs);
        const op = ops.length;
        made.forEach((meta, output) => producedBy.set(meta.id, { kind: 'op', op, output }));
        const copied = attrs.map((attr) => ({ ...attr, value: Array.isArray(attr.value) ? [...attr.value] : attr.value }) as GraphAttr);
        ops.push({ name, attrs: copied, attrsKey: attrsKey(copied), inputs, outputs: made.map(({ dtype, shape }) => ({ dtype, shape: [...shape] })) });
        return made;
      },
      tensorDataSync(id) {
        refusal ??= 'the step reads a value back to JavaScript before it ends';
        return real.tensorDataSync(id);
      },
    },
    body,
  );
  if (refusal) return { result, trace: null, refusal };
  if (ops.length === 0) return { result, trace: null, refusal: 'the step runs no TensorFlow op' };
  return { result, trace: { ops, externals }, refusal: null };
}
