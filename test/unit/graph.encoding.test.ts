/**
 * The pieces of a graph step that need no TensorFlow: the protobuf
 * encodings of a SavedModel and the attributes a NodeDef must spell out
 * where eager execution infers them.
 */
import { describe, expect, it } from 'vitest';
import { withInferredAttrs } from '../../src/main/ml/graph/inferAttrs';
import { proto } from '../../src/main/ml/graph/protobuf';
import { AttrKind, encodeSavedModel, placeholder } from '../../src/main/ml/graph/savedModel';

const bytes = (field: Uint8Array) => [...field];

describe('protobuf encoding', () => {
  it('writes varints, negative int64s, floats, strings and nested messages as the wire format says', () => {
    expect(bytes(proto.varint(1, 150))).toEqual([0x08, 0x96, 0x01]);
    expect(bytes(proto.varint(5, true))).toEqual([0x28, 0x01]);
    // −1 as int64: ten bytes of two's complement.
    expect(bytes(proto.varint(1, -1))).toEqual([0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]);
    expect(bytes(proto.float(4, 1))).toEqual([0x25, 0x00, 0x00, 0x80, 0x3f]);
    expect(bytes(proto.string(2, 'testing'))).toEqual([0x12, 0x07, 0x74, 0x65, 0x73, 0x74, 0x69, 0x6e, 0x67]);
    expect(bytes(proto.message(3, [proto.varint(1, 150)]))).toEqual([0x1a, 0x03, 0x08, 0x96, 0x01]);
    expect(bytes(proto.packedVarints(4, [3, 270]))).toEqual([0x22, 0x03, 0x03, 0x8e, 0x02]);
    expect(() => proto.varint(1, 1.5)).toThrow(/not an integer/);
  });

  it('puts each node, its inputs and attributes into the SavedModel, tagged for loading', () => {
    const model = encodeSavedModel([placeholder('in_0', 1, [2, -1]), { name: 'op_0', op: 'Neg', inputs: ['in_0', '^in_0'], attrs: [{ name: 'T', type: AttrKind.type, value: 1 }] }]);
    const text = Buffer.from(model).toString('latin1');
    for (const piece of ['in_0', 'Placeholder', 'op_0', 'Neg', '^in_0', 'serve', 'dtype', 'shape']) expect(text).toContain(piece);
    expect(() => encodeSavedModel([{ name: 'x', op: 'Const', inputs: [], attrs: [{ name: 'value', type: 6, value: 1 }] }])).toThrow(/attribute "value": attribute kind 6/);
  });
});

describe('attributes a graph needs spelled out', () => {
  const FLOAT = 1;
  const INT32 = 3;
  const names = (attrs: ReturnType<typeof withInferredAttrs>) => Object.fromEntries(attrs.map((attr) => [attr.name, attr.value]));

  it("infers an op's type attributes from its inputs", () => {
    expect(names(withInferredAttrs('ExpandDims', [], [FLOAT, INT32]))).toEqual({ T: FLOAT, Tdim: INT32 });
  });

  it('counts a list input from what the single inputs leave', () => {
    expect(names(withInferredAttrs('ConcatV2', [], [FLOAT, FLOAT, FLOAT, INT32]))).toEqual({ N: 3, T: FLOAT, Tidx: INT32 });
  });

  it('keeps the attributes the op was given', () => {
    const given = [{ name: 'T', type: AttrKind.type, value: INT32 }];
    expect(names(withInferredAttrs('ExpandDims', given, [FLOAT, INT32]))).toEqual({ T: INT32, Tdim: INT32 });
  });

  it('leaves ops without typed inputs alone', () => {
    expect(withInferredAttrs('NoSuchOp', [], [FLOAT])).toEqual([]);
  });
});
