/**
 * IEEE 754 half precision, for feature caches: half the disk and page cache
 * of float32, and features (post-ReLU activations, typically < 100) keep
 * about three significant digits, far below what changes a caption.
 */

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** Rounds to nearest even; overflows become ±Infinity, NaN stays NaN. */
export function toFloat16Bits(value: number): number {
  f32[0] = value;
  const x = u32[0] as number;
  const sign = (x >>> 16) & 0x8000;
  const exponent = (x >>> 23) & 0xff;
  let mantissa = x & 0x7fffff;
  if (exponent === 0xff) return sign | 0x7c00 | (mantissa ? 0x200 : 0);
  const e = exponent - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mantissa |= 0x800000;
    const shift = 14 - e;
    const half = 1 << (shift - 1);
    let rounded = mantissa >>> shift;
    const rest = mantissa & ((1 << shift) - 1);
    if (rest > half || (rest === half && (rounded & 1))) rounded += 1;
    return sign | rounded;
  }
  let bits = sign | (e << 10) | (mantissa >>> 13);
  const rest = mantissa & 0x1fff;
  if (rest > 0x1000 || (rest === 0x1000 && (bits & 1))) bits += 1;
  return bits;
}

export function fromFloat16Bits(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >>> 10) & 0x1f;
  const mantissa = bits & 0x3ff;
  if (exponent === 0) return sign * mantissa * 2 ** -24;
  if (exponent === 0x1f) return mantissa ? NaN : sign * Infinity;
  return sign * (1 + mantissa / 1024) * 2 ** (exponent - 15);
}

let table: Float32Array | null = null;

/** All 65536 half values as floats (256 KiB), built once: decoding is then one lookup per value. */
function decodeTable(): Float32Array {
  if (!table) {
    table = new Float32Array(65536);
    for (let bits = 0; bits < 65536; bits++) table[bits] = fromFloat16Bits(bits);
  }
  return table;
}

export function encodeFloat16(values: Float32Array, out = new Uint16Array(values.length)): Uint16Array {
  for (let i = 0; i < values.length; i++) out[i] = toFloat16Bits(values[i] as number);
  return out;
}

export function decodeFloat16(bits: Uint16Array, out = new Float32Array(bits.length), offset = 0): Float32Array {
  const lookup = decodeTable();
  for (let i = 0; i < bits.length; i++) out[offset + i] = lookup[bits[i] as number] as number;
  return out;
}
