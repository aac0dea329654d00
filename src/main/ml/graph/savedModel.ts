/**
 * A TensorFlow graph written as a SavedModel (saved_model.pb), the one form
 * in which tfjs-node's binding can hand a whole graph to a TensorFlow
 * session (`loadSavedModel`, then `runSavedModel` by node names). The graph
 * has no variables and no signatures: callers feed Placeholders and fetch
 * nodes by name.
 *
 * Attributes come as the binding takes them for eager ops ({name, type,
 * value} with TensorFlow's C-API attribute kinds), so a traced op becomes a
 * NodeDef with the same attributes it ran with.
 *
 * Schemas: tensorflow/core/protobuf/saved_model.proto, meta_graph.proto,
 * framework/graph.proto, node_def.proto, attr_value.proto, tensor_shape.proto.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { proto, type Field } from './protobuf';

/** TensorFlow C API's TF_AttrType, as tfjs-node's binding uses it. */
export const AttrKind = { string: 0, int: 1, float: 2, bool: 3, type: 4, shape: 5 } as const;

export interface GraphAttr {
  name: string;
  type: number;
  value: number | boolean | string | number[] | boolean[];
}

export interface GraphNode {
  name: string;
  op: string;
  /** "node", "node:k" for output k, "^node" for a control dependency (after the data inputs). */
  inputs: string[];
  attrs: GraphAttr[];
}

/** The tag the graph is saved and loaded under. */
export const GRAPH_TAG = 'serve';

/** TensorShapeProto: dim { size } per dimension (−1 for unknown). */
function shapeProto(field: number, dims: readonly number[]): Field {
  return proto.message(
    field,
    dims.map((size) => proto.message(2, [proto.varint(1, size)])),
  );
}

/** AttrValue. Lists (arrays) go into AttrValue.list. */
function attrValue(attr: GraphAttr): Field[] {
  const { value } = attr;
  const where = `attribute "${attr.name}"`;
  switch (attr.type) {
    case AttrKind.string:
      if (typeof value !== 'string') throw new Error(`${where}: a string attribute needs a string.`);
      return [proto.string(2, value)];
    case AttrKind.int:
      if (Array.isArray(value)) return [proto.message(1, [proto.packedVarints(3, value as number[])])];
      return [proto.varint(3, value as number)];
    case AttrKind.float:
      if (Array.isArray(value)) return [proto.message(1, [proto.packedFloats(4, value as number[])])];
      return [proto.float(4, value as number)];
    case AttrKind.bool:
      if (Array.isArray(value)) return [proto.message(1, [proto.packedVarints(5, value as boolean[])])];
      return [proto.varint(5, value as boolean)];
    case AttrKind.type:
      if (Array.isArray(value)) return [proto.message(1, [proto.packedVarints(6, value as number[])])];
      return [proto.varint(6, value as number)];
    case AttrKind.shape:
      if (!Array.isArray(value)) throw new Error(`${where}: a shape attribute needs an array of dimensions.`);
      return [shapeProto(7, value as number[])];
    default:
      throw new Error(`${where}: attribute kind ${attr.type} cannot be written into a graph.`);
  }
}

function nodeDef(node: GraphNode): Field {
  return proto.message(1, [
    proto.string(1, node.name),
    proto.string(2, node.op),
    ...node.inputs.map((input) => proto.string(3, input)),
    ...node.attrs.map((attr) => proto.message(5, [proto.string(1, attr.name), proto.message(2, attrValue(attr))])),
  ]);
}

/**
 * GraphDef version: the producer version only decides which deprecated ops
 * are refused, and none of ours is deprecated.
 */
const GRAPH_PRODUCER = 1_000;

/** saved_model.pb's bytes for a graph of `nodes`. */
export function encodeSavedModel(nodes: readonly GraphNode[]): Uint8Array {
  const graphDef = [...nodes.map(nodeDef), proto.message(4, [proto.varint(1, GRAPH_PRODUCER)])];
  const metaGraph = proto.message(2, [proto.message(1, [proto.string(4, GRAPH_TAG)]), proto.message(2, graphDef)]);
  return proto.root([proto.varint(1, 1), metaGraph]);
}

/** A Placeholder node of a fixed shape. */
export function placeholder(name: string, dtype: number, shape: readonly number[]): GraphNode {
  return {
    name,
    op: 'Placeholder',
    inputs: [],
    attrs: [
      { name: 'dtype', type: AttrKind.type, value: dtype },
      { name: 'shape', type: AttrKind.shape, value: [...shape] },
    ],
  };
}

/**
 * Writes the graph to a fresh temporary folder, hands it to `load` (which
 * reads it into a session), and removes the folder whatever happens: the
 * session keeps the graph in memory.
 */
export function withSavedModelFolder<T>(nodes: readonly GraphNode[], load: (folder: string) => T): T {
  const folder = mkdtempSync(join(tmpdir(), 'captioner-graph-'));
  try {
    writeFileSync(join(folder, 'saved_model.pb'), encodeSavedModel(nodes));
    return load(folder);
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
}
