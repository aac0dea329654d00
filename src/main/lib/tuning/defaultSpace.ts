/**
 * The search space a study gets when none is written: every RunConfig field
 * with a tuner hint (`search` for numbers, `searchChoices` for choices),
 * with the hint's range, scale and step. Also checks a written space against
 * RunConfig: every parameter must name a RunConfig field and every value it
 * can take must pass the RunConfig validation.
 */
import { mergeConfig, runConfigSchema, searchChoiceSpace, searchSpace as runConfigSearchHints } from '../../../shared/runConfig';
import { paramsToOverrides, SearchSpaceError, type Distribution, type SearchSpace } from './space';
import type { ParamValue } from './types';

/** The default space from the RunConfig hints, in schema order (numbers first, then choices). */
export function defaultSearchSpace(): SearchSpace {
  const space: SearchSpace = {};
  for (const hint of runConfigSearchHints()) {
    const log = hint.scale === 'log';
    if (hint.integer) {
      // A log-scale integer takes every integer (Optuna requires step 1 with log).
      space[hint.path] = { type: 'int', low: hint.min, high: hint.max, log, step: log ? 1 : (hint.step ?? 1) };
    } else {
      space[hint.path] = hint.step !== undefined && !log ? { type: 'float', low: hint.min, high: hint.max, log, step: hint.step } : { type: 'float', low: hint.min, high: hint.max, log };
    }
  }
  for (const hint of searchChoiceSpace()) space[hint.path] = { type: 'categorical', choices: [...hint.choices] };
  return space;
}

/** The values worth checking against RunConfig: the ends of a range, or every choice. */
function probeValues(dist: Distribution): ParamValue[] {
  if (dist.type === 'categorical') return dist.choices;
  return dist.grid ? [dist.low, dist.high, ...dist.grid] : [dist.low, dist.high];
}

/**
 * Throws a SearchSpaceError naming the parameter when it is not a RunConfig
 * field, or when one of its values fails RunConfig validation (for example a
 * learning rate above the hard maximum).
 */
export function assertSpaceFitsRunConfig(space: SearchSpace, datasetPath = '/dataset'): void {
  for (const [name, dist] of Object.entries(space)) {
    for (const value of probeValues(dist)) {
      const config = mergeConfig({ dataset: { path: datasetPath } }, paramsToOverrides({ [name]: value }));
      const parsed = runConfigSchema.safeParse(config);
      if (parsed.success) continue;
      const issue = parsed.error.issues[0]!;
      const where = issue.path.map(String).join('.');
      if (issue.code === 'unrecognized_keys') throw new SearchSpaceError(name, '', `is not a RunConfig field (${where ? `${where}: ` : ''}${issue.message}).`);
      const field = dist.type === 'categorical' ? 'choices' : value === dist.low ? 'low' : value === dist.high ? 'high' : 'grid';
      throw new SearchSpaceError(name, field, `${JSON.stringify(value)} is not a valid ${where || name} (${issue.message}).`);
    }
  }
}
