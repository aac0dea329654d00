/**
 * Reads the Optuna goldens in test/fixtures/tuning (written by
 * scripts/make-tuning-goldens.py) and turns their trials into TrialRecords.
 * JSON has no NaN or infinities, so the script writes them as strings.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Params, TrialRecord, TrialState } from '../../src/main/lib/tuning/types';

const SPECIAL: Record<string, number> = { NaN: NaN, Infinity: Infinity, '-Infinity': -Infinity };

export function fixtureNumber(value: unknown): number {
  if (typeof value === 'number') return value;
  if (typeof value === 'string' && value in SPECIAL) return SPECIAL[value]!;
  throw new Error(`not a fixture number: ${JSON.stringify(value)}`);
}

export function readTuningFixture<T>(name: 'tpe' | 'pruners' | 'importance' | 'sobol'): T {
  return JSON.parse(readFileSync(join(__dirname, '..', 'fixtures', 'tuning', `${name}.json`), 'utf8')) as T;
}

export interface FixtureTrial {
  number: number;
  state: TrialState;
  params: Params;
  value?: number;
  intermediate: Record<string, number | string>;
}

export function toTrialRecord(trial: FixtureTrial): TrialRecord {
  return {
    number: trial.number,
    state: trial.state,
    params: trial.params,
    ...(trial.value !== undefined ? { value: trial.value } : {}),
    intermediate: new Map(Object.entries(trial.intermediate).map(([step, value]) => [Number(step), fixtureNumber(value)])),
  };
}

/** |actual - expected| <= rel * max(1, |expected|), with matching infinities. */
export function closeTo(actual: number, expected: number, rel: number): boolean {
  if (!Number.isFinite(expected)) return actual === expected || (Number.isNaN(actual) && Number.isNaN(expected));
  return Math.abs(actual - expected) <= rel * Math.max(1, Math.abs(expected));
}
