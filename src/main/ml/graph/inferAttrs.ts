/**
 * The type attributes an eager op leaves to be inferred from its inputs
 * ("T" of ExpandDims, "N" of a list input), spelled out for a graph's
 * NodeDef, which must carry every attribute that has no default.
 *
 * The table of which input sets which attribute is generated from
 * TensorFlow's op registry (scripts/make-op-input-types.py); list inputs
 * arrive flattened, as the binding takes them.
 */
import table from './opInputTypes.json';
import { AttrKind, type GraphAttr } from './savedModel';

interface InputArg {
  /** The type attribute this input sets. */
  type?: string;
  /** The list-of-types attribute this input sets (one type per tensor). */
  list?: string;
  /** The count attribute of a list input of one type. */
  n?: string;
}

const ops = (table as { ops: Record<string, InputArg[]> }).ops;

/** `attrs` with the attributes the inputs imply added where missing. `inputTypes`: each flattened input's DataType. */
export function withInferredAttrs(op: string, attrs: readonly GraphAttr[], inputTypes: readonly number[]): GraphAttr[] {
  const args = ops[op];
  if (!args) return [...attrs];
  const given = new Map(attrs.map((attr) => [attr.name, attr]));
  const isList = (arg: InputArg) => arg.n !== undefined || arg.list !== undefined;
  const lists = args.filter(isList).length;
  const singles = args.length - args.filter(isList).length;
  const counted = (arg: InputArg): number | undefined => {
    if (arg.n && typeof given.get(arg.n)?.value === 'number') return given.get(arg.n)!.value as number;
    const typeList = arg.list ? given.get(arg.list)?.value : undefined;
    if (Array.isArray(typeList)) return typeList.length;
    // The only list input takes whatever the single inputs leave.
    return lists === 1 ? inputTypes.length - singles : undefined;
  };
  const added: GraphAttr[] = [];
  const add = (attr: GraphAttr) => {
    if (given.has(attr.name)) return;
    given.set(attr.name, attr);
    added.push(attr);
  };
  let at = 0;
  for (const arg of args) {
    const count = isList(arg) ? counted(arg) : 1;
    if (count === undefined) throw new Error(`${op}: cannot tell how many inputs its list argument takes.`);
    const types = inputTypes.slice(at, at + count);
    at += count;
    if (arg.n) add({ name: arg.n, type: AttrKind.int, value: count });
    if (arg.list) add({ name: arg.list, type: AttrKind.type, value: types });
    if (arg.type && types.length > 0) add({ name: arg.type, type: AttrKind.type, value: types[0]! });
  }
  return [...attrs, ...added];
}
