/**
 * `npm run bench -- samplers [trials] [seeds]`: how fast each sampler finds
 * good values on standard test functions with float, log-scale, int and
 * categorical dimensions. For each (function, sampler): the best value after
 * `trials` trials (default 50), averaged over `seeds` seeds (default 20), as
 * regret (best found minus the known optimum). Then, per function, TPE's mean
 * regret divided by random search's (below 1: TPE is better).
 */
import { createSampler } from '../src/main/lib/tuning/factory';
import { parseSearchSpace, type SearchSpace } from '../src/main/lib/tuning/space';
import type { Params, StudyView, TrialRecord } from '../src/main/lib/tuning/types';

interface TestFunction {
  name: string;
  space: SearchSpace;
  optimum: number;
  f(p: Params): number;
}

const OFFSETS: Record<string, number> = { a: 0, b: 1, c: 2.5 };
const CELL: Record<string, number> = { lstm: 0, gru: 0.2, rnn: 1 };

const functions: TestFunction[] = [
  {
    name: 'shifted sphere (4 floats, 1 int, categorical offset)',
    space: parseSearchSpace({
      x1: { type: 'float', low: -5, high: 5 },
      x2: { type: 'float', low: -5, high: 5 },
      x3: { type: 'float', low: -5, high: 5 },
      x4: { type: 'float', low: -5, high: 5 },
      n: { type: 'int', low: -10, high: 10 },
      offset: { type: 'categorical', choices: ['a', 'b', 'c'] },
    }),
    optimum: 0,
    f: (p) => ['x1', 'x2', 'x3', 'x4'].reduce((s, k) => s + ((p[k] as number) - 1.3) ** 2, 0) + 0.1 * ((p.n as number) - 3) ** 2 + OFFSETS[p.offset as string]!,
  },
  {
    name: 'rosenbrock (2 floats, stepped int, categorical shift)',
    space: parseSearchSpace({
      x: { type: 'float', low: -2, high: 2 },
      y: { type: 'float', low: -1, high: 3 },
      k: { type: 'int', low: 0, high: 20, step: 2 },
      shift: { type: 'categorical', choices: [0, 0.5, 1] },
    }),
    optimum: 0,
    f: (p) => {
      const x = p.x as number;
      const y = (p.y as number) - (p.shift as number);
      return (1 - x) ** 2 + 100 * (y - x * x) ** 2 + 0.05 * ((p.k as number) - 14) ** 2 + 2 * (p.shift as number);
    },
  },
  {
    name: 'learning-rate bowl (log float, log int, float, categorical)',
    space: parseSearchSpace({
      learningRate: { type: 'float', low: 1e-6, high: 1, log: true },
      units: { type: 'int', low: 16, high: 1024, log: true },
      dropout: { type: 'float', low: 0, high: 0.8 },
      cell: { type: 'categorical', choices: ['lstm', 'gru', 'rnn'] },
    }),
    optimum: 0,
    f: (p) => (Math.log10(p.learningRate as number) + 3.3) ** 2 + 0.25 * (Math.log2(p.units as number) - 8) ** 2 + 4 * ((p.dropout as number) - 0.25) ** 2 + CELL[p.cell as string]!,
  },
  {
    name: 'stepped floats with a categorical interaction',
    space: parseSearchSpace({
      a: { type: 'float', low: 0, high: 1, step: 0.05 },
      b: { type: 'float', low: 0, high: 1, step: 0.05 },
      c: { type: 'float', low: -3, high: 3 },
      mode: { type: 'categorical', choices: ['low', 'high'] },
    }),
    optimum: 0,
    f: (p) => {
      const target = p.mode === 'high' ? 0.8 : 0.2;
      return ((p.a as number) - target) ** 2 * 10 + ((p.b as number) - 0.35) ** 2 * 10 + ((p.c as number) - 1) ** 2 + (p.mode === 'high' ? 0 : 0.3);
    },
  },
];

const samplers: Array<{ label: string; make: (seed: number) => ReturnType<typeof createSampler> }> = [
  { label: 'tpe', make: (seed) => createSampler({ name: 'tpe', options: { seed } }) },
  { label: 'random', make: (seed) => createSampler({ name: 'random', options: { seed } }) },
  { label: 'sobol (scrambled)', make: (seed) => createSampler({ name: 'sobol', options: { seed, scramble: true } }) },
];

function bestAfter(fn: TestFunction, make: (seed: number) => ReturnType<typeof createSampler>, seed: number, trials: number): number {
  const sampler = make(seed);
  const history: TrialRecord[] = [];
  const study: StudyView = { name: 'bench', direction: 'minimize', trials: history };
  let best = Infinity;
  for (let number = 0; number < trials; number++) {
    const params = sampler.suggest({ study, space: fn.space, trialNumber: number });
    const value = fn.f(params);
    history.push({ number, state: 'complete', params, value, intermediate: new Map() });
    best = Math.min(best, value);
  }
  return best;
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const median = (xs: number[]) => {
  const s = xs.slice().sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const round = (x: number) => Number(x.toPrecision(4));

export async function run(args: string[]): Promise<void> {
  const trials = Number(args[0] ?? 50);
  const seeds = Number(args[1] ?? 20);
  if (!Number.isInteger(trials) || trials < 1) throw new Error(`trials must be a positive integer (got "${args[0]}").`);
  if (!Number.isInteger(seeds) || seeds < 1) throw new Error(`seeds must be a positive integer (got "${args[1]}").`);
  for (const fn of functions) {
    const regrets: Record<string, number> = {};
    for (const { label, make } of samplers) {
      const start = performance.now();
      const values = Array.from({ length: seeds }, (_, seed) => bestAfter(fn, make, seed, trials) - fn.optimum);
      const seconds = (performance.now() - start) / 1000;
      regrets[label] = mean(values);
      const line = { bench: 'samplers', function: fn.name, sampler: label, trials, seeds, meanRegret: round(mean(values)), medianRegret: round(median(values)), seconds: Number(seconds.toFixed(3)) };
      process.stdout.write(`${JSON.stringify(line)}\n`);
    }
    const ratio = regrets.tpe! / regrets.random!;
    process.stdout.write(`${JSON.stringify({ bench: 'samplers', function: fn.name, tpeRegretOverRandom: round(ratio), tpeBeatsRandom: ratio < 1 })}\n`);
  }
}
