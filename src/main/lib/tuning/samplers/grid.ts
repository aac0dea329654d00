/**
 * Grid search over the full cartesian product of every parameter's values, as
 * Optuna's GridSampler walks it: parameters in name order, the product in
 * itertools order, shuffled once with the seed (default 0). Trial n < N (the
 * grid size) takes grid point n of that order; later trials (retries,
 * parallel workers) take a random point no trial has finished or started,
 * then one no trial has finished, then any point (the grid is exhausted).
 *
 * Values per parameter: categorical choices; int low, low+step, ..., high;
 * float with a step likewise; an explicit `grid` list when given. A float
 * without step or grid has no finite grid: an error names it.
 */
import { createRng } from '../../data/random';
import { trialRng } from '../rng';
import type { Sampler, SuggestRequest } from '../sampler';
import { type Distribution, type SearchSpace } from '../space';
import type { ParamValue, Params, StudyView } from '../types';

export interface GridSamplerOptions {
  seed?: number;
}

/** Grids larger than this are almost certainly a mistake (and would not fit in memory as a list). */
export const MAX_GRID_POINTS = 1_000_000;

export function gridValues(name: string, dist: Distribution): ParamValue[] {
  if (dist.type === 'categorical') return dist.choices;
  if (dist.grid) return dist.grid;
  if (dist.type === 'float' && dist.step === undefined) {
    throw new Error(`grid sampler: ${name} is a continuous float; give it a "step" or list its "grid" values.`);
  }
  const step = dist.step!;
  const count = Math.round((dist.high - dist.low) / step) + 1;
  if (count > MAX_GRID_POINTS) throw new Error(`grid sampler: ${name} has ${count} values; give it a larger step or a "grid" list.`);
  // low + i * step, the last one exactly high (no drift from repeated addition).
  return Array.from({ length: count }, (_, i) => (i === count - 1 ? dist.high : dist.low + i * step));
}

const sameValue = (a: ParamValue | undefined, b: ParamValue): boolean =>
  a === b || (typeof a === 'number' && typeof b === 'number' && Math.abs(a - b) <= 1e-12 * Math.max(1, Math.abs(b)));

export class GridSampler implements Sampler {
  readonly name = 'grid';
  private readonly seed: number;

  constructor(options: GridSamplerOptions = {}) {
    this.seed = options.seed ?? 0;
  }

  /** The last space's points: suggest and remaining are asked often with the same space (a cache; results do not depend on it). */
  private cached: { key: string; points: Params[] } | undefined;

  /** Every grid point, in the seeded order trial numbers walk. */
  points(space: SearchSpace): Params[] {
    const key = JSON.stringify(space);
    if (this.cached?.key === key) return this.cached.points;
    const points = this.buildPoints(space);
    this.cached = { key, points };
    return points;
  }

  private buildPoints(space: SearchSpace): Params[] {
    const names = Object.keys(space).sort();
    const values = names.map((name) => gridValues(name, space[name]!));
    const total = values.reduce((n, v) => n * v.length, 1);
    if (total > MAX_GRID_POINTS) throw new Error(`grid sampler: the grid has ${total} points (more than ${MAX_GRID_POINTS}).`);
    const points: Params[] = [];
    const walk = (i: number, partial: Params): void => {
      if (i === names.length) {
        points.push({ ...partial });
        return;
      }
      for (const value of values[i]!) walk(i + 1, { ...partial, [names[i]!]: value });
    };
    walk(0, {});
    return createRng(`tuning/grid/${this.seed}`).shuffle(points);
  }

  suggest({ study, space, trialNumber }: SuggestRequest): Params {
    const points = this.points(space);
    const order = Object.keys(space);
    const inSpaceOrder = (p: Params): Params => Object.fromEntries(order.map((name) => [name, p[name] as ParamValue]));
    if (trialNumber >= 0 && trialNumber < points.length) return inSpaceOrder(points[trialNumber]!);
    const { finished, running } = this.visited(study, space, points, trialNumber);
    let targets = points.map((_, i) => i).filter((i) => !finished.has(i) && !running.has(i));
    if (targets.length === 0) targets = points.map((_, i) => i).filter((i) => !finished.has(i));
    if (targets.length === 0) targets = points.map((_, i) => i);
    return inSpaceOrder(points[trialRng(this.seed, this.name, trialNumber).pick(targets)]!);
  }

  /** Grid points no trial has finished or started yet. */
  remaining(study: StudyView, space: SearchSpace): number {
    const points = this.points(space);
    const { finished, running } = this.visited(study, space, points, -1);
    return points.filter((_, i) => !finished.has(i) && !running.has(i)).length;
  }

  private visited(study: StudyView, space: SearchSpace, points: Params[], exceptNumber: number): { finished: Set<number>; running: Set<number> } {
    const names = Object.keys(space);
    const indexOf = (params: Params): number => points.findIndex((p) => names.every((n) => sameValue(params[n], p[n] as ParamValue)));
    const finished = new Set<number>();
    const running = new Set<number>();
    for (const trial of study.trials) {
      if (trial.number === exceptNumber) continue;
      const index = indexOf(trial.params);
      if (index < 0) continue;
      if (trial.state === 'running') running.add(index);
      else finished.add(index);
    }
    return { finished, running };
  }
}
