/**
 * A small seeded PRNG (sfc32, seeded through splitmix32) so that splits and the
 * Shapes benchmark are reproducible on every platform and Node version:
 * `Math.random` cannot be seeded, and its algorithm is not specified.
 */

export interface Rng {
  /** Uniform in [0, 1). */
  next(): number;
  /** Uniform integer in [0, n). */
  int(n: number): number;
  /** Uniform integer in [min, max] (both inclusive). */
  range(min: number, max: number): number;
  /** Uniform float in [min, max). */
  uniform(min: number, max: number): number;
  /** True with probability p. */
  chance(p: number): boolean;
  pick<T>(items: readonly T[]): T;
  /** A new array with the items in random order (Fisher–Yates). */
  shuffle<T>(items: readonly T[]): T[];
  /** An independent stream derived from this seed and a label, unaffected by how much this one was used. */
  fork(label: string | number): Rng;
}

/** FNV-1a over the UTF-16 code units: turns string seeds and labels into 32-bit numbers. */
export function hashString(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash >>> 0;
}

/** Expands one 32-bit seed into a stream of well-mixed 32-bit words (seeds the generators here and in model/rng). */
export function splitmix32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x9e3779b9) >>> 0;
    let z = state;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
}

export function createRng(seed: number | string): Rng {
  const seed32 = typeof seed === 'number' ? (Math.trunc(seed) ^ Math.trunc(seed / 2 ** 32)) >>> 0 : hashString(seed);
  const init = splitmix32(seed32);
  let a = init();
  let b = init();
  let c = init();
  let d = init();
  const nextUint = (): number => {
    const t = (((a + b) >>> 0) + d) >>> 0;
    d = (d + 1) >>> 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) >>> 0;
    c = ((c << 21) | (c >>> 11)) >>> 0;
    c = (c + t) >>> 0;
    return t >>> 0;
  };
  // Discard the first outputs: sfc32 mixes its state over the first dozen rounds.
  for (let i = 0; i < 12; i++) nextUint();

  const rng: Rng = {
    next: () => nextUint() / 4294967296,
    int(n) {
      if (!Number.isInteger(n) || n <= 0) throw new RangeError(`rng.int needs a positive integer (got ${n}).`);
      return Math.floor(rng.next() * n);
    },
    range: (min, max) => min + rng.int(max - min + 1),
    uniform: (min, max) => min + rng.next() * (max - min),
    chance: (p) => rng.next() < p,
    pick(items) {
      if (items.length === 0) throw new RangeError('rng.pick from an empty list.');
      return items[rng.int(items.length)] as (typeof items)[number];
    },
    shuffle(items) {
      const out = items.slice();
      for (let i = out.length - 1; i > 0; i--) {
        const j = rng.int(i + 1);
        const tmp = out[i] as (typeof out)[number];
        out[i] = out[j] as (typeof out)[number];
        out[j] = tmp;
      }
      return out;
    },
    fork: (label) => createRng(`${seed32}/${String(label)}`),
  };
  return rng;
}
