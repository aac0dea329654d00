/**
 * Which model a batch job captions with, as the user names it (an imported
 * package, a package folder, or a run's best, last or epoch-N checkpoint),
 * turned into the folder the engine loads and a short label for outputs.
 */
import type { BatchModelChoice, BatchModelSource } from '../../shared/batchTypes';
import { readPackageInfo } from '../lib/packages/packageInfo';
import { resolveCheckpoint } from '../inference/checkpoints';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { checkpointName } from '../../shared/checkpointName';
import { ApiError } from '../../shared/errors';
import { MODEL_NAME, modelsDir } from '../inference/models';
import type { ExperimentStore } from '../store';

export interface ResolvedModel {
  source: BatchModelSource;
  /** The folder loaded: the package or the checkpoint. */
  path: string;
  label: string;
  runId: number | null;
}

export async function resolveBatchModel(deps: { store: ExperimentStore; dataDir: string }, choice: BatchModelChoice): Promise<ResolvedModel> {
  if ('package' in choice) {
    const dir = packageFolder(deps.dataDir, choice.package);
    return { source: { kind: 'package', dir }, path: dir, label: readPackageInfo(dir).name, runId: null };
  }
  const checkpoint = await resolveCheckpoint(deps.store, choice.runId, choice.checkpoint);
  const run = (await deps.store.runs.get(choice.runId))!;
  return {
    source: { kind: 'checkpoint', path: checkpoint.path },
    path: checkpoint.path,
    label: checkpointName({ runName: run.name, runId: run.id, epoch: checkpoint.epoch, isBest: checkpoint.isBest }),
    runId: run.id,
  };
}

/** An imported model's name, or the folder of any package (as `captioner caption --model` reads it). */
function packageFolder(dataDir: string, model: string): string {
  if (MODEL_NAME.test(model)) {
    const imported = join(modelsDir(dataDir), model);
    if (existsSync(join(imported, 'config.json'))) return imported;
  }
  const folder = resolve(model);
  if (existsSync(join(folder, 'config.json'))) return folder;
  throw new ApiError('not_found', `No model "${model}": neither an imported model nor a package folder with a config.json.`);
}
