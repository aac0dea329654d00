/**
 * Search spaces: one distribution per parameter, named by its RunConfig path
 * (`optimizer.learningRate`). The same three kinds as Optuna's
 * FloatDistribution, IntDistribution and CategoricalDistribution, with the same
 * rules: `log` needs `low > 0` and excludes `step`; an int `log` space has
 * step 1; `high - low` must be a multiple of `step` (Optuna silently lowers
 * `high`; here that is an error, so what is written is what is searched).
 *
 * JSON form:
 *   {"optimizer.learningRate": {"type": "float", "low": 1e-4, "high": 1e-2, "log": true},
 *    "decoder.units": {"type": "int", "low": 128, "high": 256, "step": 64},
 *    "decoder.cell": {"type": "categorical", "choices": ["lstm", "gru"]}}
 *
 * A float or int parameter may list explicit `grid` values for the grid
 * sampler (they must lie in the distribution).
 */
import type { ParamValue, Params } from './types';

export interface FloatDistribution {
  type: 'float';
  low: number;
  high: number;
  log: boolean;
  /** Values are low, low + step, ..., high. Not with log. */
  step?: number;
  grid?: number[];
}

export interface IntDistribution {
  type: 'int';
  low: number;
  high: number;
  log: boolean;
  /** Always set (1 by default); 1 when log. */
  step: number;
  grid?: number[];
}

export interface CategoricalDistribution {
  type: 'categorical';
  choices: ParamValue[];
}

export type Distribution = FloatDistribution | IntDistribution | CategoricalDistribution;
export type NumericDistribution = FloatDistribution | IntDistribution;

/** Parameter name → distribution, in a fixed order (the JSON key order). */
export type SearchSpace = Record<string, Distribution>;

export class SearchSpaceError extends Error {
  constructor(
    readonly param: string,
    readonly field: string,
    message: string,
  ) {
    super(`search space: ${param}${field ? `.${field}` : ''}: ${message}`);
    this.name = 'SearchSpaceError';
  }
}

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/** True when `high - low` is a whole number of steps (to float tolerance, as 0.1 steps are not exact). */
export function isMultipleOfStep(low: number, high: number, step: number): boolean {
  const steps = (high - low) / step;
  return Math.abs(steps - Math.round(steps)) <= 1e-9 * Math.max(1, Math.abs(steps));
}

function finiteNumber(param: string, field: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) throw new SearchSpaceError(param, field, `must be a finite number (got ${JSON.stringify(value)}).`);
  return value;
}

function parseGrid(param: string, raw: unknown, dist: NumericDistribution): number[] | undefined {
  if (raw === undefined) return undefined;
  if (!Array.isArray(raw) || raw.length === 0) throw new SearchSpaceError(param, 'grid', 'must be a non-empty array of numbers.');
  return raw.map((value, i) => {
    const v = finiteNumber(param, `grid[${i}]`, value);
    if (!contains(dist, v)) throw new SearchSpaceError(param, `grid[${i}]`, `${v} is outside the distribution (${describeDistribution(dist)}).`);
    return v;
  });
}

function parseNumeric(param: string, raw: Record<string, unknown>, type: 'float' | 'int'): NumericDistribution {
  const allowed = new Set(['type', 'low', 'high', 'log', 'step', 'grid']);
  for (const key of Object.keys(raw)) if (!allowed.has(key)) throw new SearchSpaceError(param, key, `unknown field for a ${type} parameter (allowed: low, high, log, step, grid).`);
  const low = finiteNumber(param, 'low', raw.low);
  const high = finiteNumber(param, 'high', raw.high);
  if (raw.log !== undefined && typeof raw.log !== 'boolean') throw new SearchSpaceError(param, 'log', 'must be true or false.');
  const log = raw.log === true;
  if (low > high) throw new SearchSpaceError(param, 'low', `must not exceed high (low ${low} > high ${high}).`);
  if (log && low <= 0) throw new SearchSpaceError(param, 'low', `must be above 0 on a log scale (got ${low}).`);
  let step: number | undefined;
  if (raw.step !== undefined) {
    step = finiteNumber(param, 'step', raw.step);
    if (step <= 0) throw new SearchSpaceError(param, 'step', `must be above 0 (got ${step}).`);
  }
  if (type === 'int') {
    if (!Number.isInteger(low)) throw new SearchSpaceError(param, 'low', `must be an integer (got ${low}).`);
    if (!Number.isInteger(high)) throw new SearchSpaceError(param, 'high', `must be an integer (got ${high}).`);
    if (step !== undefined && !Number.isInteger(step)) throw new SearchSpaceError(param, 'step', `must be an integer (got ${step}).`);
    if (log && step !== undefined && step !== 1) throw new SearchSpaceError(param, 'step', `must be 1 (or left out) on a log scale (got ${step}).`);
    step ??= 1;
    if ((high - low) % step !== 0) throw new SearchSpaceError(param, 'step', `high - low (${high - low}) must be a multiple of step ${step}.`);
    const dist: IntDistribution = { type: 'int', low, high, log, step };
    const grid = parseGrid(param, raw.grid, dist);
    return grid ? { ...dist, grid } : dist;
  }
  if (log && step !== undefined) throw new SearchSpaceError(param, 'step', 'cannot be combined with log: true.');
  if (step !== undefined && !isMultipleOfStep(low, high, step)) throw new SearchSpaceError(param, 'step', `high - low (${high - low}) must be a multiple of step ${step}.`);
  const dist: FloatDistribution = step === undefined ? { type: 'float', low, high, log } : { type: 'float', low, high, log, step };
  const grid = parseGrid(param, raw.grid, dist);
  return grid ? { ...dist, grid } : dist;
}

function parseCategorical(param: string, raw: Record<string, unknown>): CategoricalDistribution {
  for (const key of Object.keys(raw)) if (key !== 'type' && key !== 'choices') throw new SearchSpaceError(param, key, 'unknown field for a categorical parameter (allowed: choices).');
  if (!Array.isArray(raw.choices) || raw.choices.length === 0) throw new SearchSpaceError(param, 'choices', 'must be a non-empty array.');
  const seen = new Set<string>();
  const choices = raw.choices.map((choice, i) => {
    const ok = choice === null || typeof choice === 'string' || typeof choice === 'boolean' || (typeof choice === 'number' && Number.isFinite(choice));
    if (!ok) throw new SearchSpaceError(param, `choices[${i}]`, `must be a string, a finite number, a boolean or null (got ${JSON.stringify(choice)}).`);
    const key = JSON.stringify(choice);
    if (seen.has(key)) throw new SearchSpaceError(param, `choices[${i}]`, `${key} is listed twice.`);
    seen.add(key);
    return choice as ParamValue;
  });
  return { type: 'categorical', choices };
}

/** Parses and validates one distribution; errors name the parameter and the field. */
export function parseDistribution(param: string, raw: unknown): Distribution {
  if (!isObject(raw)) throw new SearchSpaceError(param, '', 'must be an object with a "type" (float, int or categorical).');
  switch (raw.type) {
    case 'float':
      return parseNumeric(param, raw, 'float');
    case 'int':
      return parseNumeric(param, raw, 'int');
    case 'categorical':
      return parseCategorical(param, raw);
    default:
      throw new SearchSpaceError(param, 'type', `must be "float", "int" or "categorical" (got ${JSON.stringify(raw.type)}).`);
  }
}

/** Parses a search space from its JSON form (an object, or the text of one). */
export function parseSearchSpace(input: unknown): SearchSpace {
  let raw = input;
  if (typeof input === 'string') {
    try {
      raw = JSON.parse(input);
    } catch (error) {
      throw new Error(`search space: not valid JSON (${(error as Error).message}).`);
    }
  }
  if (!isObject(raw)) throw new Error('search space: must be an object mapping parameter names to distributions.');
  const names = Object.keys(raw);
  if (names.length === 0) throw new Error('search space: has no parameters.');
  const space: SearchSpace = {};
  for (const name of names) {
    if (name.trim() === '') throw new SearchSpaceError(name, '', 'parameter names must not be empty.');
    space[name] = parseDistribution(name, raw[name]);
  }
  return space;
}

/** The JSON form of a space (what `parseSearchSpace` reads back). */
export function searchSpaceToJson(space: SearchSpace): Record<string, Record<string, unknown>> {
  return Object.fromEntries(Object.entries(space).map(([name, dist]) => [name, { ...dist }]));
}

/** A distribution with a single possible value (low == high, or one choice). */
export function isSingle(dist: Distribution): boolean {
  return dist.type === 'categorical' ? dist.choices.length === 1 : dist.low === dist.high;
}

/** Whether `value` is a value the distribution can produce. */
export function contains(dist: Distribution, value: ParamValue): boolean {
  if (dist.type === 'categorical') return choiceIndex(dist, value) >= 0;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < dist.low || value > dist.high) return false;
  if (dist.type === 'int') return Number.isInteger(value) && (value - dist.low) % dist.step === 0;
  return dist.step === undefined || isMultipleOfStep(dist.low, value, dist.step);
}

/** Index of a categorical value among the choices, or -1 (compares like JSON values). */
export function choiceIndex(dist: CategoricalDistribution, value: ParamValue): number {
  const index = dist.choices.indexOf(value);
  if (index >= 0) return index;
  // NaN-free JSON values: indexOf already covers strings, numbers, booleans and null.
  return -1;
}

/**
 * Optuna's internal representation: the number a sampler models. Numeric
 * values as they are; a categorical value by its index among the choices.
 */
export function toInternal(dist: Distribution, value: ParamValue): number {
  if (dist.type === 'categorical') {
    const index = choiceIndex(dist, value);
    if (index < 0) throw new Error(`${JSON.stringify(value)} is not one of the choices ${JSON.stringify(dist.choices)}.`);
    return index;
  }
  if (typeof value !== 'number') throw new Error(`expected a number, got ${JSON.stringify(value)}.`);
  return value;
}

/** The inverse of `toInternal`: ints become integers, indexes become choices. */
export function toExternal(dist: Distribution, internal: number): ParamValue {
  if (dist.type === 'categorical') {
    const choice = dist.choices[Math.trunc(internal)];
    if (choice === undefined) throw new Error(`choice index ${internal} out of range.`);
    return choice;
  }
  return dist.type === 'int' ? Math.trunc(internal) : internal;
}

export function describeDistribution(dist: Distribution): string {
  if (dist.type === 'categorical') return `one of ${JSON.stringify(dist.choices)}`;
  const scale = dist.log ? ', log' : '';
  const step = dist.step !== undefined && !(dist.type === 'int' && dist.step === 1) ? `, step ${dist.step}` : '';
  return `${dist.type} in [${dist.low}, ${dist.high}]${scale}${step}`;
}

/** Checks that `params` has exactly the space's parameters, each inside its distribution. */
export function assertParamsInSpace(space: SearchSpace, params: Params): void {
  for (const [name, dist] of Object.entries(space)) {
    if (!(name in params)) throw new Error(`parameter ${name} is missing.`);
    const value = params[name] as ParamValue;
    if (!contains(dist, value)) throw new Error(`parameter ${name} = ${JSON.stringify(value)} is outside ${describeDistribution(dist)}.`);
  }
  for (const name of Object.keys(params)) if (!(name in space)) throw new Error(`parameter ${name} is not in the search space.`);
}

/**
 * Turns dotted parameter names into nested overrides:
 * {"decoder.units": 256} → {decoder: {units: 256}}, ready for mergeConfig.
 */
export function paramsToOverrides(params: Params): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [path, value] of Object.entries(params)) {
    const keys = path.split('.');
    let node = out;
    keys.forEach((key, i) => {
      if (i === keys.length - 1) node[key] = value;
      else {
        const next = node[key];
        if (next !== undefined && !isObject(next)) throw new Error(`parameter ${path} conflicts with another parameter at ${keys.slice(0, i + 1).join('.')}.`);
        node[key] = next ?? {};
        node = node[key] as Record<string, unknown>;
      }
    });
  }
  return out;
}
