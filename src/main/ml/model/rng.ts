/**
 * A small seeded random generator whose whole state is four 32-bit words, so a
 * checkpoint can store it and a resumed run draws exactly the numbers the
 * uninterrupted run would have drawn (xoshiro128**, seeded by splitmix32).
 * Everything random in training — initial weights, shuffling, dropout seeds,
 * scheduled sampling, sampling decoders — comes from one of these.
 */

import { splitmix32 } from '../../lib/data/random';

export type RngState = [number, number, number, number];

const rotl = (x: number, k: number) => ((x << k) | (x >>> (32 - k))) >>> 0;

export class Rng {
  private s: RngState;

  constructor(seed: number) {
    const next = splitmix32(seed);
    this.s = [next(), next(), next(), next()];
    // An all-zero state would only ever produce zeros.
    if (this.s.every((word) => word === 0)) this.s[0] = 1;
  }

  static fromState(state: RngState): Rng {
    const rng = new Rng(0);
    rng.s = [...state] as RngState;
    return rng;
  }

  state(): RngState {
    return [...this.s] as RngState;
  }

  /** A uniformly distributed unsigned 32-bit integer. */
  nextUint32(): number {
    const s = this.s;
    const result = Math.imul(rotl(Math.imul(s[1], 5) >>> 0, 7), 9) >>> 0;
    const t = (s[1] << 9) >>> 0;
    s[2] = (s[2] ^ s[0]) >>> 0;
    s[3] = (s[3] ^ s[1]) >>> 0;
    s[1] = (s[1] ^ s[2]) >>> 0;
    s[0] = (s[0] ^ s[3]) >>> 0;
    s[2] = (s[2] ^ t) >>> 0;
    s[3] = rotl(s[3], 11);
    return result;
  }

  /** Uniform in [0, 1). */
  next(): number {
    return this.nextUint32() / 4294967296;
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** A seed for a tfjs random op (dropout masks, sampling draws): a positive integer below 2^31. */
  seed(): number {
    return this.nextUint32() >>> 1;
  }

  /** Standard normal (Box-Muller). */
  normal(): number {
    const u = 1 - this.next();
    const v = this.next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }

  /** A new array with `items` in a random order (Fisher-Yates). */
  shuffled<T>(items: readonly T[]): T[] {
    const out = [...items];
    for (let i = out.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      [out[i], out[j]] = [out[j]!, out[i]!];
    }
    return out;
  }
}

/**
 * A seed derived from a base seed and labels, e.g. (42, 'shuffle', epoch 3):
 * independent streams that need no stored state, because the labels say
 * where in the run they are.
 */
export function deriveSeed(seed: number, ...labels: Array<string | number>): number {
  let hash = (seed ^ 0x811c9dc5) >>> 0;
  for (const label of labels) {
    const text = `/${String(label)}`;
    for (let i = 0; i < text.length; i++) hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193) >>> 0;
  }
  // One splitmix round so that nearby labels give unrelated seeds.
  return splitmix32(hash)() >>> 1;
}
