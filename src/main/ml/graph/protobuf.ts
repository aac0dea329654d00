/**
 * The few protocol-buffer encodings a TensorFlow SavedModel needs: varints
 * (int32, int64, enums, bools), 32-bit floats, strings and nested messages.
 * A message is built as a list of encoded fields; `message` concatenates
 * them under a field number. Only writing is needed (the graph goes to
 * TensorFlow, never back), so this stays a page instead of a dependency.
 *
 * Wire format: https://protobuf.dev/programming-guides/encoding/
 */

const VARINT = 0;
const LENGTH_DELIMITED = 2;
const FIXED32 = 5;

const encoder = new TextEncoder();

/** Base-128 varint; negative numbers as 64-bit two's complement (ten bytes), as protobuf encodes int32 and int64. */
function varintBytes(value: number): number[] {
  if (!Number.isInteger(value)) throw new Error(`protobuf: ${value} is not an integer.`);
  let rest = value < 0 ? BigInt.asUintN(64, BigInt(value)) : BigInt(value);
  const bytes: number[] = [];
  while (rest >= 0x80n) {
    bytes.push(Number(rest & 0x7fn) | 0x80);
    rest >>= 7n;
  }
  bytes.push(Number(rest));
  return bytes;
}

const key = (field: number, wireType: number): number[] => varintBytes((field << 3) | wireType);

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

/** An encoded field (or several); a message's body is the concatenation of its fields. */
export type Field = Uint8Array;

export const proto = {
  /** int32, int64, uint64, an enum value or a bool. */
  varint(field: number, value: number | boolean): Field {
    return Uint8Array.from([...key(field, VARINT), ...varintBytes(typeof value === 'boolean' ? Number(value) : value)]);
  },
  float(field: number, value: number): Field {
    const bytes = new Uint8Array(4);
    new DataView(bytes.buffer).setFloat32(0, value, true);
    return concat([Uint8Array.from(key(field, FIXED32)), bytes]);
  },
  bytes(field: number, value: Uint8Array): Field {
    return concat([Uint8Array.from([...key(field, LENGTH_DELIMITED), ...varintBytes(value.length)]), value]);
  },
  string(field: number, value: string): Field {
    return proto.bytes(field, encoder.encode(value));
  },
  /** A nested message from its fields. */
  message(field: number, fields: readonly Field[]): Field {
    return proto.bytes(field, concat(fields));
  },
  /** A packed repeated varint field (repeated int64, enum or bool). */
  packedVarints(field: number, values: ReadonlyArray<number | boolean>): Field {
    return proto.bytes(field, Uint8Array.from(values.flatMap((value) => varintBytes(typeof value === 'boolean' ? Number(value) : value))));
  },
  /** A packed repeated float field. */
  packedFloats(field: number, values: readonly number[]): Field {
    const bytes = new Uint8Array(values.length * 4);
    const view = new DataView(bytes.buffer);
    values.forEach((value, index) => view.setFloat32(index * 4, value, true));
    return proto.bytes(field, bytes);
  },
  /** The top-level message: its fields, concatenated. */
  root(fields: readonly Field[]): Uint8Array {
    return concat(fields);
  },
};
