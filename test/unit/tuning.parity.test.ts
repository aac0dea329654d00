/**
 * Parity with Optuna 5.0: the numbers in test/fixtures/tuning were computed by
 * Optuna itself (scripts/make-tuning-goldens.py). Random streams differ
 * between NumPy and JavaScript, so TPE is compared on its log densities and
 * on its decision over a fixed candidate set, never on random draws.
 */
import { describe, expect, it } from 'vitest';
import { normalizeImportances, PedAnovaEvaluator, type PedAnovaOptions } from '../../src/main/lib/tuning/importance/pedAnova';
import { SobolSequence } from '../../src/main/lib/tuning/samplers/sobol';
import { parseSearchSpace } from '../../src/main/lib/tuning/space';
import { TpeSampler } from '../../src/main/lib/tuning/tpe/tpeSampler';
import { logGaussMass, logNdtr, truncnormLogPdf, truncnormPpf } from '../../src/main/lib/tuning/tpe/truncnorm';
import { argmax } from '../../src/main/lib/tuning/tpe/tpeSampler';
import type { Direction } from '../../src/main/lib/tuning/types';
import { createPruner, type PrunerSpec } from '../../src/main/lib/tuning/factory';
import { simulateStudy, type Decision } from '../helpers/prunerSimulation';
import { closeTo, fixtureNumber, readTuningFixture, toTrialRecord, type FixtureTrial } from '../helpers/tuningFixtures';

interface TpeCase {
  name: string;
  direction: Direction;
  constantLiar: boolean;
  /** Equal numeric observations: generated with a stable argsort (see the script). */
  ties: boolean;
  space: Record<string, unknown>;
  trials: FixtureTrial[];
  below: number[];
  above: number[];
  candidates: Record<string, number[]>;
  logBelow: Array<number | string>;
  logAbove: Array<number | string>;
  best: number;
}
interface TpeFixture {
  versions: { optuna: string };
  cases: TpeCase[];
  truncnorm: { logNdtr: number[][]; logGaussMass: number[][]; ppf: number[][]; logPdf: Array<Array<number | string>> };
}

const tpe = readTuningFixture<TpeFixture>('tpe');

function expectClose(actual: number[], expected: Array<number | string>, rel: number, label: string): void {
  expect(actual).toHaveLength(expected.length);
  actual.forEach((value, i) => {
    const want = fixtureNumber(expected[i]);
    if (!closeTo(value, want, rel)) throw new Error(`${label}[${i}]: got ${value}, Optuna ${want} (relative error ${Math.abs(value - want) / Math.max(1, Math.abs(want))})`);
  });
}

describe(`truncated normal helpers match Optuna ${tpe.versions.optuna}`, () => {
  it('log Φ(x) from the far left tail to the right tail', () => {
    for (const [x, want] of tpe.truncnorm.logNdtr) expect(closeTo(logNdtr(x!), want!, 1e-12), `logNdtr(${x})`).toBe(true);
  });
  it('log mass of intervals in both tails and across 0', () => {
    for (const [a, b, want] of tpe.truncnorm.logGaussMass) expect(closeTo(logGaussMass(a!, b!), want!, 1e-12), `logGaussMass(${a}, ${b})`).toBe(true);
  });
  it('quantiles (Newton inverse of log Φ)', () => {
    for (const [q, a, b, want] of tpe.truncnorm.ppf) expect(closeTo(truncnormPpf(q!, a!, b!), want!, 1e-7), `ppf(${q}; ${a}, ${b})`).toBe(true);
  });
  it('log densities', () => {
    for (const [x, a, b, loc, scale, want] of tpe.truncnorm.logPdf as number[][]) expect(closeTo(truncnormLogPdf(x!, a!, b!, loc!, scale!), fixtureNumber(want), 1e-12)).toBe(true);
  });
});

describe(`TPE matches Optuna ${tpe.versions.optuna}`, () => {
  for (const c of tpe.cases) {
    describe(`${c.name}${c.ties ? ' (ties broken by trial order)' : ''}`, () => {
      const space = parseSearchSpace(c.space);
      const study = { name: 'parity', direction: c.direction, trials: c.trials.map(toTrialRecord) };
      const sampler = new TpeSampler({ constantLiar: c.constantLiar });
      const next = c.trials.length;

      it('splits the history into the same good and bad trials', () => {
        const { below, above } = sampler.split(study, next);
        expect(below.map((t) => t.number)).toEqual(c.below);
        expect(above.map((t) => t.number)).toEqual(c.above);
      });

      it('gives the same log densities l(x) and g(x) at the fixed candidates (1e-9 relative)', () => {
        const { below, above } = sampler.estimators(study, space, next);
        expectClose(below.logPdf(c.candidates), c.logBelow, 1e-9, 'log l(x)');
        expectClose(above.logPdf(c.candidates), c.logAbove, 1e-9, 'log g(x)');
      });

      it('picks the same candidate as the maximiser of l(x)/g(x)', () => {
        const { below, above } = sampler.estimators(study, space, next);
        expect(argmax(TpeSampler.acquisition(below, above, c.candidates))).toBe(c.best);
      });
    });
  }
});

interface PrunerCase {
  pruner: string;
  options: Record<string, unknown>;
  direction: Direction;
  parallel: number;
  studyName: string;
  curves: Array<Array<number | string>>;
  decisions: Decision[];
}
const pruners = readTuningFixture<{ versions: { optuna: string }; cases: PrunerCase[] }>('pruners');

describe(`pruners decide as Optuna ${pruners.versions.optuna} does, report by report`, () => {
  for (const c of pruners.cases) {
    it(`${c.pruner} ${JSON.stringify(c.options)}, ${c.direction}, ${c.parallel} at a time`, () => {
      const pruner = createPruner({ name: c.pruner, options: c.options } as PrunerSpec);
      const curves = c.curves.map((curve) => curve.map(fixtureNumber));
      const { decisions } = simulateStudy(pruner, c.direction, curves, c.parallel, c.studyName);
      expect(decisions).toEqual(c.decisions);
      // The fixture is not trivial: some trials are pruned and some are not.
      expect(c.decisions.some((d) => d[2])).toBe(true);
    });
  }
});

const sobol = readTuningFixture<{ versions: { scipy: string }; cases: Array<{ dimensions: number; skip: number; points: number[][] }> }>('sobol');

describe(`unscrambled Sobol points equal SciPy ${sobol.versions.scipy}'s (the sequence Optuna's QMCSampler uses)`, () => {
  for (const c of sobol.cases) {
    it(`${c.dimensions} dimensions, points ${c.skip} to ${c.skip + c.points.length - 1}`, () => {
      const sequence = new SobolSequence(c.dimensions);
      c.points.forEach((want, i) => expect(sequence.point(c.skip + i)).toEqual(want));
    });
  }
});

interface ImportanceCase {
  direction: Direction;
  options: PedAnovaOptions;
  space: Record<string, unknown>;
  trials: FixtureTrial[];
  raw: Record<string, number>;
  normalized: Record<string, number>;
}
const importance = readTuningFixture<{ versions: { optuna: string }; cases: ImportanceCase[] }>('importance');

describe(`PED-ANOVA importances equal Optuna ${importance.versions.optuna}'s`, () => {
  for (const c of importance.cases) {
    it(`${c.trials.length} trials, ${c.direction}, options ${JSON.stringify(c.options)}`, () => {
      const study = { name: 'parity', direction: c.direction, trials: c.trials.map(toTrialRecord) };
      const raw = new PedAnovaEvaluator(c.options).evaluate(study, parseSearchSpace(c.space));
      expect(Object.keys(raw).sort()).toEqual(Object.keys(c.raw).sort());
      for (const [name, want] of Object.entries(c.raw)) expect(closeTo(raw[name]!, want, 1e-9), `${name}: ${raw[name]} vs ${want}`).toBe(true);
      const normalized = normalizeImportances(raw);
      expect(Object.keys(normalized)).toEqual(Object.keys(c.normalized));
      for (const [name, want] of Object.entries(c.normalized)) expect(closeTo(normalized[name]!, want, 1e-9)).toBe(true);
    });
  }
});
