/**
 * Reads what a stored study says into the tuning library's objects: its
 * search space (checked against RunConfig), its sampler and pruner (a name,
 * or the JSON text of `{ name, options }`), and its objective (a validation
 * metric the training loop stores every epoch). Errors name the study and
 * the field.
 */
import { ApiError } from '../../shared/errors';
import { VALIDATION_KEYS, type ValidationKey } from '../../shared/metricKeys';
import type { StudyRecord } from '../../shared/storeTypes';
import { assertSpaceFitsRunConfig, createPruner, createSampler, parseSearchSpace, type Pruner, type Sampler, type SearchSpace } from '../lib/tuning';

/** Validation metrics stored once per epoch (see TrainingService), usable as objectives. */
export const OBJECTIVE_KEYS = VALIDATION_KEYS;
export type ObjectiveKey = ValidationKey;

export interface StudySettings {
  space: SearchSpace;
  sampler: Sampler;
  pruner: Pruner;
  objective: ObjectiveKey;
}

/** A sampler or pruner column: a plain name, or JSON `{ "name": ..., "options": {...} }`. */
function specOf(text: string): unknown {
  const trimmed = text.trim();
  return trimmed.startsWith('{') ? JSON.parse(trimmed) : trimmed;
}

function field<T>(study: StudyRecord, name: string, read: () => T): T {
  try {
    return read();
  } catch (error) {
    // A study being created has no id yet (0).
    const which = study.id > 0 ? `Study ${study.id} (${study.name})` : `Study "${study.name}"`;
    throw new ApiError('invalid_request', `${which}: ${name}: ${(error as Error).message}`);
  }
}

export function studySettings(study: StudyRecord): StudySettings {
  const objective = field(study, 'objective', () => {
    if (!(OBJECTIVE_KEYS as readonly string[]).includes(study.objective)) throw new Error(`must be one of ${OBJECTIVE_KEYS.join(', ')} (got "${study.objective}").`);
    return study.objective as ObjectiveKey;
  });
  const space = field(study, 'searchSpace', () => {
    const parsed = parseSearchSpace(study.searchSpace);
    assertSpaceFitsRunConfig(parsed);
    return parsed;
  });
  const sampler = field(study, 'sampler', () => createSampler(specOf(study.sampler) as never));
  const pruner = field(study, 'pruner', () => createPruner(specOf(study.pruner) as never));
  // A grid must be finite: find out now rather than at the first trial.
  field(study, 'sampler', () => sampler.remaining({ name: study.name, direction: study.direction, trials: [] }, space));
  return { space, sampler, pruner, objective };
}
