import { describe, expect, it } from 'vitest';
import { configFromPreset, mergeConfig, runConfigSchema, searchChoiceSpace } from '../../src/shared/runConfig';
import { assertSpaceFitsRunConfig, defaultSearchSpace } from '../../src/main/lib/tuning/defaultSpace';
import { assertParamsInSpace, contains, paramsToOverrides, parseSearchSpace, searchSpaceToJson, toExternal, toInternal } from '../../src/main/lib/tuning/space';
import { nextDown, roundHalfEven, transformedBounds, untransform } from '../../src/main/lib/tuning/transform';

describe('search space JSON', () => {
  it('reads float (linear, log, stepped), int (stepped, log) and categorical parameters', () => {
    const space = parseSearchSpace(
      JSON.stringify({
        'optimizer.learningRate': { type: 'float', low: 1e-4, high: 1e-2, log: true },
        'decoder.units': { type: 'int', low: 128, high: 256, step: 64 },
        'decoder.cell': { type: 'categorical', choices: ['lstm', 'gru'] },
        'training.batchSize': { type: 'int', low: 16, high: 128, log: true },
        'decoder.dropout': { type: 'float', low: 0.1, high: 0.5, step: 0.1 },
      }),
    );
    expect(space['optimizer.learningRate']).toEqual({ type: 'float', low: 1e-4, high: 1e-2, log: true });
    expect(space['decoder.units']).toEqual({ type: 'int', low: 128, high: 256, log: false, step: 64 });
    expect(space['training.batchSize']).toEqual({ type: 'int', low: 16, high: 128, log: true, step: 1 });
    expect(space['decoder.cell']).toEqual({ type: 'categorical', choices: ['lstm', 'gru'] });
    expect(Object.keys(space)).toEqual(['optimizer.learningRate', 'decoder.units', 'decoder.cell', 'training.batchSize', 'decoder.dropout']);
    expect(parseSearchSpace(searchSpaceToJson(space))).toEqual(space);
  });

  it.each([
    [{ lr: { type: 'float', low: 0, high: 1, log: true } }, /lr\.low: must be above 0 on a log scale/],
    [{ lr: { type: 'float', low: 1, high: 0.5 } }, /lr\.low: must not exceed high/],
    [{ lr: { type: 'float', low: 0.1, high: 1, log: true, step: 0.1 } }, /lr\.step: cannot be combined with log/],
    [{ units: { type: 'int', low: 128, high: 250, step: 64 } }, /units\.step: high - low \(122\) must be a multiple of step 64/],
    [{ units: { type: 'int', low: 1.5, high: 4 } }, /units\.low: must be an integer/],
    [{ units: { type: 'int', low: 1, high: 64, log: true, step: 2 } }, /units\.step: must be 1/],
    [{ units: { type: 'int', low: 1, high: '64' } }, /units\.high: must be a finite number/],
    [{ cell: { type: 'categorical', choices: [] } }, /cell\.choices: must be a non-empty array/],
    [{ cell: { type: 'categorical', choices: ['a', 'a'] } }, /cell\.choices\[1\]: "a" is listed twice/],
    [{ cell: { type: 'categorical', choices: [{ a: 1 }] } }, /cell\.choices\[0\]: must be a string/],
    [{ cell: { type: 'enum', choices: ['a'] } }, /cell\.type: must be "float", "int" or "categorical"/],
    [{ cell: { type: 'categorical', choices: ['a'], low: 1 } }, /cell\.low: unknown field/],
    [{ lr: { type: 'float', low: 0, high: 1, grid: [0.5, 2] } }, /lr\.grid\[1\]: 2 is outside/],
    [{ lr: 'float' }, /search space: lr: must be an object/],
    [{}, /has no parameters/],
  ])('rejects %j naming the parameter and field', (input, message) => {
    expect(() => parseSearchSpace(input)).toThrow(message);
  });

  it('says when the text is not JSON', () => {
    expect(() => parseSearchSpace('{"lr": ')).toThrow(/not valid JSON/);
  });

  it('knows which values a distribution can produce', () => {
    const space = parseSearchSpace({
      f: { type: 'float', low: 0, high: 1, step: 0.1 },
      i: { type: 'int', low: 2, high: 10, step: 2 },
      c: { type: 'categorical', choices: ['x', 1, false, null] },
    });
    expect(contains(space.f!, 0.30000000000000004)).toBe(true);
    expect(contains(space.f!, 0.35)).toBe(false);
    expect(contains(space.i!, 6)).toBe(true);
    expect(contains(space.i!, 5)).toBe(false);
    expect(contains(space.c!, null)).toBe(true);
    expect(contains(space.c!, 'y')).toBe(false);
    expect(toInternal(space.c!, false)).toBe(2);
    expect(toExternal(space.c!, 3)).toBeNull();
    expect(() => assertParamsInSpace(space, { f: 0.2, i: 4 })).toThrow(/parameter c is missing/);
    expect(() => assertParamsInSpace(space, { f: 0.2, i: 4, c: 'x', extra: 1 })).toThrow(/extra is not in the search space/);
  });

  it('turns dotted names into nested RunConfig overrides', () => {
    expect(paramsToOverrides({ 'decoder.units': 256, 'decoder.cell': 'gru', 'optimizer.learningRate': 1e-3 })).toEqual({
      decoder: { units: 256, cell: 'gru' },
      optimizer: { learningRate: 1e-3 },
    });
    expect(() => paramsToOverrides({ decoder: 1, 'decoder.units': 2 })).toThrow(/conflicts/);
  });
});

describe('the transform random search and Sobol share with Optuna', () => {
  it('rounds halves to even like numpy and never returns high for a continuous float', () => {
    expect([0.5, 1.5, 2.5, -1.5, 2.4, 2.6].map(roundHalfEven)).toEqual([0, 2, 2, -2, 2, 3]);
    expect(untransform({ type: 'float', low: 0, high: 1, log: false }, 1)).toBe(nextDown(1));
    expect(nextDown(1)).toBeLessThan(1);
  });

  it('widens stepped and int ranges by half a step so each value gets an equal share', () => {
    expect(transformedBounds({ type: 'int', low: 128, high: 256, log: false, step: 64 })).toEqual([96, 288]);
    expect(transformedBounds({ type: 'int', low: 16, high: 128, log: true, step: 1 })).toEqual([Math.log(15.5), Math.log(128.5)]);
    expect(untransform({ type: 'int', low: 128, high: 256, log: false, step: 64 }, 287.9)).toBe(256);
    expect(untransform({ type: 'int', low: 128, high: 256, log: false, step: 64 }, 159.99)).toBe(128);
    expect(untransform({ type: 'int', low: 16, high: 128, log: true, step: 1 }, Math.log(15.6))).toBe(16);
  });
});

describe('the default search space from RunConfig hints', () => {
  const space = defaultSearchSpace();

  it('has the numeric hints with their scale and step, and the categorical hints', () => {
    expect(space['optimizer.learningRate']).toEqual({ type: 'float', low: 1e-6, high: 1e-3, log: true });
    expect(space['decoder.units']).toEqual({ type: 'int', low: 128, high: 512, log: false, step: 32 });
    expect(space['training.batchSize']).toEqual({ type: 'int', low: 16, high: 128, log: true, step: 1 });
    expect(space['decoder.dropout']).toEqual({ type: 'float', low: 0.1, high: 0.6, log: false });
    expect(space['decoder.cell']).toEqual({ type: 'categorical', choices: ['lstm', 'gru'] });
    expect(space['decoder.variant']).toEqual({ type: 'categorical', choices: ['init-inject', 'merge', 'attention'] });
    expect(space['optimizer.name']).toEqual({ type: 'categorical', choices: ['adam', 'adamw'] });
    expect(space['schedule.kind']).toEqual({ type: 'categorical', choices: ['constant', 'step', 'cosine', 'hold-decay', 'plateau'] });
    expect(space['encoder.source']).toMatchObject({ type: 'categorical' });
    expect(searchChoiceSpace().map((d) => d.path)).toEqual(['encoder.source', 'decoder.variant', 'decoder.cell', 'optimizer.name', 'schedule.kind']);
  });

  it('only holds values RunConfig accepts, so every suggestion makes a valid run', () => {
    expect(() => assertSpaceFitsRunConfig(space)).not.toThrow();
    const base = configFromPreset('shapes-quick', { dataset: { path: '/data' } });
    const params = Object.fromEntries(Object.entries(space).map(([name, dist]) => [name, dist.type === 'categorical' ? dist.choices[dist.choices.length - 1]! : dist.high]));
    expect(runConfigSchema.safeParse(mergeConfig(base as never, paramsToOverrides(params))).success).toBe(true);
  });

  it('rejects parameters that are not RunConfig fields or leave its bounds, naming them', () => {
    expect(() => assertSpaceFitsRunConfig(parseSearchSpace({ 'decoder.size': { type: 'int', low: 1, high: 2 } }))).toThrow(/decoder\.size: is not a RunConfig field/);
    expect(() => assertSpaceFitsRunConfig(parseSearchSpace({ 'optimizer.learningRate': { type: 'float', low: 1e-4, high: 0.5, log: true } }))).toThrow(
      /optimizer\.learningRate\.high: 0\.5 is not a valid optimizer\.learningRate/,
    );
    expect(() => assertSpaceFitsRunConfig(parseSearchSpace({ 'decoder.cell': { type: 'categorical', choices: ['lstm', 'transformer'] } }))).toThrow(/decoder\.cell\.choices: "transformer"/);
  });
});
