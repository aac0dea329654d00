/**
 * Seeded randomness for the samplers. Each suggestion draws from its own
 * stream, derived from the sampler's seed, the sampler's name and the trial
 * number, so a suggestion depends only on (seed, trial number, trial history):
 * a study resumed in a new process continues the same sequence, and parallel
 * workers never share a stream. (Optuna keeps one stateful NumPy generator
 * per sampler instead; the numbers differ, the rules do not.)
 */
import { createRng, type Rng } from '../data/random';

export type { Rng };

/** The stream for one suggestion of one sampler. */
export function trialRng(seed: number, sampler: string, trialNumber: number): Rng {
  return createRng(`tuning/${sampler}/${seed}/${trialNumber}`);
}

/** Uniform in [0, 1) with 53 random bits (two 32-bit draws), so float parameters are not limited to a 2^-32 lattice. */
export function uniform53(rng: Rng): number {
  const high = Math.floor(rng.next() * 2 ** 26);
  const low = Math.floor(rng.next() * 2 ** 27);
  return (high * 2 ** 27 + low) / 2 ** 53;
}

/** Index drawn with the given probabilities (they sum to 1), like numpy's choice with p. */
export function weightedIndex(rng: Rng, probabilities: readonly number[]): number {
  const u = uniform53(rng);
  let cumulative = 0;
  for (let i = 0; i < probabilities.length; i++) {
    cumulative += probabilities[i]!;
    if (u < cumulative) return i;
  }
  // Rounding left the total a hair below 1: the last index with mass wins.
  for (let i = probabilities.length - 1; i >= 0; i--) if (probabilities[i]! > 0) return i;
  return probabilities.length - 1;
}
