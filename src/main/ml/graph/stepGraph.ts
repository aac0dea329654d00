/**
 * A traced call turned into one TensorFlow graph in a session of its own,
 * and replayed: the call's JavaScript runs again (the gradient tape, tidy,
 * the optimizer's bookkeeping), but each op it asks for is only checked
 * against the trace and answered with a placeholder handle; at the end the
 * session runs the whole graph once, fed with the real tensors the call
 * passed in, and the placeholders that are still alive (updated weights,
 * the loss) get the session's outputs as their data.
 *
 * Why: eager ops run one after another on the calling thread, while a
 * session runs independent ops at the same time (TensorFlow's inter-op
 * pool) and its optimizer fuses some (Grappler). Same kernels, same inputs.
 *
 * Rules a replayed call must keep, checked op by op (a `GraphMismatch`
 * names the first op that broke one):
 * - the same ops in the same order with the same attributes and wiring;
 * - no value read back to JavaScript before the call ends;
 * - every tensor it did not make with an op (an external) is fed at the
 *   place the trace first saw it, and the same tensor wherever the trace
 *   saw the same one.
 * Ops on a resource handle (Adam's ResourceApplyAdam and its variables) keep
 * their order through control dependencies, as eager execution had it.
 */
import { placeholder, withSavedModelFolder, GRAPH_TAG, type GraphNode } from './savedModel';
import { withBindingHooks, type HandleMeta, type KernelBackend } from './nativeBinding';
import { attrsKey, type Source, type Trace } from './trace';
import { withInferredAttrs } from './inferAttrs';

/** A replay that did not follow its trace; `variablesTouched` says whether weights already point at placeholders. */
export class GraphMismatch extends Error {
  constructor(
    message: string,
    readonly variablesTouched = false,
  ) {
    super(`The step no longer matches its graph: ${message}.`);
  }
}

const opNode = (op: number) => `op_${op}`;
const externalNode = (index: number) => `in_${index}`;
const inputName = (source: Source) => (source.kind === 'op' ? `${opNode(source.op)}:${source.output}` : externalNode(source.index));

/** The graph's nodes: externals as Placeholders (resource handles as their VarHandleOp), then the ops. */
export function graphNodes(trace: Trace, resourceType: number): GraphNode[] {
  const nodes: GraphNode[] = trace.externals.map((external, index) =>
    external.handleAttrs
      ? { name: externalNode(index), op: 'VarHandleOp', inputs: [], attrs: external.handleAttrs }
      : placeholder(externalNode(index), external.meta.dtype, external.meta.shape),
  );
  const lastOnResource = new Map<string, number>();
  const dtypeOf = (source: Source) => (source.kind === 'op' ? trace.ops[source.op]!.outputs[source.output]!.dtype : trace.externals[source.index]!.meta.dtype);
  trace.ops.forEach((op, index) => {
    const inputs = op.inputs.map(inputName);
    const after = new Set<number>();
    op.inputs.forEach((source, slot) => {
      if (dtypeOf(source) !== resourceType) return;
      const previous = lastOnResource.get(inputs[slot]!);
      if (previous !== undefined) after.add(previous);
      lastOnResource.set(inputs[slot]!, index);
    });
    nodes.push({
      name: opNode(index),
      op: op.name,
      inputs: [...inputs, ...[...after].map((previous) => `^${opNode(previous)}`)],
      attrs: withInferredAttrs(op.name, op.attrs, op.inputs.map(dtypeOf)),
    });
  });
  return nodes;
}

export class StepGraph {
  /** Placeholder handle ids: op i's output k is −(firstOutput[i] + k). Below −1, which tfjs-node reads as "not uploaded". */
  private readonly firstOutput: number[] = [];
  private readonly fetchName = new Map<number, string>();
  private session: number | null;

  private constructor(
    private readonly backend: KernelBackend,
    private readonly trace: Trace,
    session: number,
  ) {
    this.session = session;
    let next = 2;
    trace.ops.forEach((op, index) => {
      this.firstOutput.push(next);
      op.outputs.forEach((_, output) => this.fetchName.set(-(next + output), `${opNode(index)}:${output}`));
      next += op.outputs.length;
    });
  }

  /** Loads the trace's graph into a new session. */
  static build(backend: KernelBackend, trace: Trace): StepGraph {
    const nodes = graphNodes(trace, backend.binding.TF_RESOURCE);
    const session = withSavedModelFolder(nodes, (folder) => backend.binding.loadSavedModel(folder, GRAPH_TAG));
    return new StepGraph(backend, trace, session);
  }

  get opCount(): number {
    return this.trace.ops.length;
  }

  /** Runs `body` against the graph; see the rules above. */
  replay<T>(body: () => T, variablesChanged: () => boolean): T {
    if (this.session === null) throw new Error('This step graph was disposed.');
    const { backend, trace, firstOutput } = this;
    const real = backend.binding;
    const fed = new Map<number, number>();
    const made = new Map<number, object>();
    const released: number[] = [];
    let cursor = 0;
    const mismatch = (message: string) => new GraphMismatch(message, variablesChanged());

    const bind = (source: Source, id: number, where: string) => {
      if (source.kind === 'op') {
        const expected = -(firstOutput[source.op]! + source.output);
        if (id !== expected) throw mismatch(`${where} should be op ${source.op}'s output ${source.output}`);
        return;
      }
      if (id < 0) throw mismatch(`${where} should be a tensor from outside the step, not an op's output`);
      const bound = fed.get(source.index);
      if (bound === undefined) fed.set(source.index, id);
      else if (bound !== id) throw mismatch(`${where} should be the same tensor as an earlier input`);
    };

    try {
      const result = withBindingHooks(
        backend,
        {
          executeOp(name, attrs, inputIds, outputs): HandleMeta[] {
            const index = cursor++;
            const op = trace.ops[index];
            const where = `op ${index} (${name})`;
            if (!op) throw mismatch(`${where} is one op more than the graph has`);
            if (op.name !== name || op.outputs.length !== outputs || attrsKey(attrs) !== op.attrsKey) {
              throw mismatch(`${where} should be ${op.name} with the traced attributes`);
            }
            if (inputIds.length !== op.inputs.length) throw mismatch(`${where} has ${inputIds.length} inputs, the graph ${op.inputs.length}`);
            inputIds.forEach((id, slot) => bind(op.inputs[slot]!, id, `${where}, input ${slot}`));
            return op.outputs.map((meta, output) => ({ id: -(firstOutput[index]! + output), dtype: meta.dtype, shape: [...meta.shape] }));
          },
          tensorDataSync(id) {
            if (id < 0) throw mismatch('a value is read back to JavaScript inside the step');
            return real.tensorDataSync(id);
          },
          // Tensors released inside the step may still be fed to the session: release them after it ran.
          deleteTensor(id) {
            released.push(id);
          },
          outputMade(meta, tensor) {
            if (meta.id < 0) made.set(meta.id, tensor.dataId);
          },
        },
        body,
      );
      if (cursor !== trace.ops.length) throw mismatch(`the step ran ${cursor} ops, the graph has ${trace.ops.length}`);
      this.run(fed, made);
      return result;
    } finally {
      for (const id of released) real.deleteTensor(id);
    }
  }

  /** Feeds the externals, fetches what is still alive, and gives those tensors their data. */
  private run(fed: Map<number, number>, made: Map<number, object>): void {
    const { backend, trace } = this;
    const live = [...made].filter(([, dataId]) => backend.tensorMap.has(dataId));
    if (live.length === 0) return;
    const feeds = trace.externals.flatMap((external, index) => {
      if (external.handleAttrs) return [];
      const id = fed.get(index);
      if (id === undefined) throw new GraphMismatch(`input ${index} of the graph was not fed`, true);
      return [{ id, name: `${externalNode(index)}:0` }];
    });
    const outputs = backend.binding.runSavedModel(
      this.session!,
      feeds.map((feed) => feed.id),
      feeds.map((feed) => feed.name).join(','),
      live.map(([placeholderId]) => this.fetchName.get(placeholderId)!).join(','),
    );
    live.forEach(([, dataId], index) => {
      const info = backend.tensorMap.get(dataId)!;
      info.id = outputs[index]!.id;
    });
  }

  dispose(): void {
    if (this.session === null) return;
    this.backend.binding.deleteSavedModel(this.session);
    this.session = null;
  }
}
