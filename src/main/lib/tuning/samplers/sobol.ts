/**
 * Quasi-random search with the Sobol sequence, as Optuna's QMCSampler
 * (qmc_type 'sobol') uses SciPy's: Joe-Kuo direction numbers, 30 bits, the
 * first point the origin when not scrambled. Trial n takes point n (Optuna
 * counts samples in a study attribute; the trial number plays that role
 * here). Each point's coordinates map onto the parameters in the space's
 * order: numeric ones through the same transform as random search (log scale,
 * half-step widening, rounding), categorical ones as floor(u · choices).
 *
 * scramble (default false, as Optuna's): a random linear matrix scramble plus
 * a digital shift (the method SciPy uses), seeded, so each seed gives a
 * different, equally well spread sequence. Without it the seed is ignored.
 */
import { createRng, type Rng } from '../../data/random';
import type { Sampler, SuggestRequest } from '../sampler';
import { nextDown, transformedBounds, untransform } from '../transform';
import type { ParamValue, Params } from '../types';
import { SOBOL_MAX_DIMENSIONS, SOBOL_POLYNOMIALS } from './sobolDirections';

export const SOBOL_BITS = 30;
const SCALE = 2 ** -SOBOL_BITS;

/** Direction numbers v[d][j] (already shifted to 30-bit integers) for `dimensions` dimensions. */
export function directionNumbers(dimensions: number): Uint32Array[] {
  if (dimensions < 1 || dimensions > SOBOL_MAX_DIMENSIONS) throw new Error(`sobol: supports 1 to ${SOBOL_MAX_DIMENSIONS} dimensions (got ${dimensions}).`);
  const v: Uint32Array[] = [];
  for (let d = 0; d < dimensions; d++) {
    const row = new Uint32Array(SOBOL_BITS);
    if (d === 0) row.fill(1);
    else {
      const [poly, initial] = SOBOL_POLYNOMIALS[d - 1]!;
      const m = Math.floor(Math.log2(poly));
      for (let j = 0; j < m; j++) row[j] = initial[j]!;
      // Bratley and Fox's recurrence over the primitive polynomial's coefficients.
      for (let j = m; j < SOBOL_BITS; j++) {
        let value = row[j - m]!;
        let pow2 = 1;
        for (let k = 0; k < m; k++) {
          pow2 *= 2;
          if ((poly >> (m - 1 - k)) & 1) value ^= pow2 * row[j - k - 1]!;
        }
        row[j] = value;
      }
    }
    // Column j is worth 2^(bits - 1 - j).
    for (let j = 0; j < SOBOL_BITS; j++) row[j] = row[j]! * 2 ** (SOBOL_BITS - 1 - j);
    v.push(row);
  }
  return v;
}

/** Linear matrix scramble (lower-triangular, unit diagonal, over GF(2)) of one dimension's direction numbers. */
function scrambleDirections(row: Uint32Array, rng: Rng): Uint32Array {
  // lower[i][k] for k < i: bit k (from the most significant) feeds output bit i.
  const lower = Array.from({ length: SOBOL_BITS }, (_, i) => Array.from({ length: i }, () => rng.int(2)));
  return row.map((value) => {
    let out = 0;
    for (let i = 0; i < SOBOL_BITS; i++) {
      let bit = (value >>> (SOBOL_BITS - 1 - i)) & 1;
      for (let k = 0; k < i; k++) if (lower[i]![k]) bit ^= (value >>> (SOBOL_BITS - 1 - k)) & 1;
      if (bit) out |= 1 << (SOBOL_BITS - 1 - i);
    }
    return out >>> 0;
  });
}

export class SobolSequence {
  private readonly v: Uint32Array[];
  private readonly shift: Uint32Array;

  constructor(
    readonly dimensions: number,
    options: { scramble?: boolean; seed?: number } = {},
  ) {
    let v = directionNumbers(dimensions);
    this.shift = new Uint32Array(dimensions);
    if (options.scramble) {
      const rng = createRng(`tuning/sobol/${options.seed ?? 0}/${dimensions}`);
      v = v.map((row) => scrambleDirections(row, rng));
      for (let d = 0; d < dimensions; d++) this.shift[d] = rng.int(2 ** SOBOL_BITS);
    }
    this.v = v;
  }

  /** Point `index` (0-based) in [0, 1)^d: the XOR of the direction numbers selected by the Gray code of the index. */
  point(index: number): number[] {
    if (!Number.isInteger(index) || index < 0 || index >= 2 ** SOBOL_BITS) throw new Error(`sobol: point index must be a whole number below 2^${SOBOL_BITS} (got ${index}).`);
    const gray = index ^ Math.floor(index / 2);
    return Array.from({ length: this.dimensions }, (_, d) => {
      let x = this.shift[d]!;
      for (let j = 0; j < SOBOL_BITS; j++) if ((gray >>> j) & 1) x ^= this.v[d]![j]!;
      return (x >>> 0) * SCALE;
    });
  }
}

export interface SobolSamplerOptions {
  seed?: number;
  scramble?: boolean;
}

export class SobolSampler implements Sampler {
  readonly name = 'sobol';
  private readonly seed: number;
  private readonly scramble: boolean;

  constructor(options: SobolSamplerOptions = {}) {
    this.seed = options.seed ?? 0;
    this.scramble = options.scramble ?? false;
  }

  /** Direction numbers per dimension count: a cache only (the sequence is a function of the options). */
  private readonly sequences = new Map<number, SobolSequence>();

  suggest({ space, trialNumber }: SuggestRequest): Params {
    const names = Object.keys(space);
    let sequence = this.sequences.get(names.length);
    if (!sequence) {
      sequence = new SobolSequence(names.length, { scramble: this.scramble, seed: this.seed });
      this.sequences.set(names.length, sequence);
    }
    const u = sequence.point(trialNumber);
    const params: Params = {};
    names.forEach((name, d) => {
      const dist = space[name]!;
      if (dist.type === 'categorical') {
        // Optuna maps a categorical onto a float in [0, choices), never reaching the top.
        const x = Math.min(u[d]! * dist.choices.length, nextDown(dist.choices.length));
        params[name] = dist.choices[Math.floor(x)] as ParamValue;
      } else {
        const [low, high] = transformedBounds(dist);
        params[name] = untransform(dist, low + u[d]! * (high - low));
      }
    });
    return params;
  }

  remaining(): number {
    return Infinity;
  }
}
