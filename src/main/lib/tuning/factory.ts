/**
 * Samplers and pruners by name, from the JSON a study stores
 * (`{"name": "tpe", "options": {"seed": 7}}`, or just `"tpe"`). Unknown names
 * and options are errors that name them.
 */
import { z } from 'zod';
import { NopPruner, type Pruner } from './pruner';
import { HyperbandPruner } from './pruners/hyperband';
import { MedianPruner, PercentilePruner } from './pruners/percentile';
import { SuccessiveHalvingPruner } from './pruners/successiveHalving';
import type { Sampler } from './sampler';
import { GridSampler } from './samplers/grid';
import { RandomSampler } from './samplers/random';
import { SobolSampler } from './samplers/sobol';
import { TpeSampler } from './tpe/tpeSampler';

const seed = z.number().int().min(0).max(2 ** 32 - 1);
const whole = (min: number) => z.number().int().min(min);

const samplerSpecSchema = z.discriminatedUnion('name', [
  z.object({
    name: z.literal('tpe'),
    options: z
      .object({
        seed,
        nStartupTrials: whole(0),
        nEiCandidates: whole(1),
        priorWeight: z.number().min(0),
        considerMagicClip: z.boolean(),
        considerEndpoints: z.boolean(),
        multivariate: z.boolean(),
        constantLiar: z.boolean(),
      })
      .partial()
      .strict()
      .default({}),
  }),
  z.object({ name: z.literal('random'), options: z.object({ seed }).partial().strict().default({}) }),
  z.object({ name: z.literal('grid'), options: z.object({ seed }).partial().strict().default({}) }),
  z.object({ name: z.literal('sobol'), options: z.object({ seed, scramble: z.boolean() }).partial().strict().default({}) }),
]);

const warmup = { nStartupTrials: whole(0), nWarmupSteps: whole(0), intervalSteps: whole(1), nMinTrials: whole(1) };
const prunerSpecSchema = z.discriminatedUnion('name', [
  z.object({ name: z.literal('none'), options: z.object({}).strict().default({}) }),
  z.object({ name: z.literal('median'), options: z.object(warmup).partial().strict().default({}) }),
  z.object({ name: z.literal('percentile'), options: z.object({ percentile: z.number().min(0).max(100), ...z.object(warmup).partial().shape }).strict() }),
  z.object({
    name: z.literal('successiveHalving'),
    options: z
      .object({ minResource: z.union([z.literal('auto'), whole(1)]), reductionFactor: whole(2), minEarlyStoppingRate: whole(0), bootstrapCount: whole(0) })
      .partial()
      .strict()
      .default({}),
  }),
  z.object({
    name: z.literal('hyperband'),
    options: z
      .object({ minResource: whole(1), maxResource: z.union([z.literal('auto'), whole(1)]), reductionFactor: whole(2), bootstrapCount: whole(0) })
      .partial()
      .strict()
      .default({}),
  }),
]);

export type SamplerSpec = z.input<typeof samplerSpecSchema>;
export type PrunerSpec = z.input<typeof prunerSpecSchema>;
export const samplerNames = ['tpe', 'random', 'grid', 'sobol'] as const;
export const prunerNames = ['none', 'median', 'percentile', 'successiveHalving', 'hyperband'] as const;
/** Other names a pruner answers to: `halving` is successive halving (the command line's short name). */
export const prunerAliases: Readonly<Record<string, (typeof prunerNames)[number]>> = { halving: 'successiveHalving' };

function parseSpec<T>(kind: 'sampler' | 'pruner', schema: z.ZodType<T>, input: unknown): T {
  const raw = typeof input === 'string' ? { name: input } : input;
  const parsed = schema.safeParse(raw);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  const where = issue.path.map(String).join('.');
  throw new Error(`${kind}${where ? ` ${where}` : ''}: ${issue.message}`);
}

export function createSampler(input: SamplerSpec | string): Sampler {
  const spec = parseSpec('sampler', samplerSpecSchema, input);
  switch (spec.name) {
    case 'tpe':
      return new TpeSampler(spec.options);
    case 'random':
      return new RandomSampler(spec.options);
    case 'grid':
      return new GridSampler(spec.options);
    case 'sobol':
      return new SobolSampler(spec.options);
  }
}

/** A pruner spec with an alias replaced by the pruner's own name. */
function canonicalPruner(input: unknown): unknown {
  if (typeof input === 'string') return prunerAliases[input] ?? input;
  if (typeof input === 'object' && input !== null && 'name' in input) {
    const name = (input as { name: unknown }).name;
    if (typeof name === 'string' && prunerAliases[name]) return { ...input, name: prunerAliases[name] };
  }
  return input;
}

export function createPruner(input: PrunerSpec | string): Pruner {
  const spec = parseSpec('pruner', prunerSpecSchema, canonicalPruner(input));
  switch (spec.name) {
    case 'none':
      return new NopPruner();
    case 'median':
      return new MedianPruner(spec.options);
    case 'percentile':
      return new PercentilePruner(spec.options);
    case 'successiveHalving':
      return new SuccessiveHalvingPruner(spec.options);
    case 'hyperband':
      return new HyperbandPruner(spec.options);
  }
}
