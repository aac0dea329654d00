/**
 * Model packages from the main process: export a run's checkpoint (the
 * engine writes the files), import a package into the data directory
 * (`<dataDir>/models/<name>/`, checked by loading it in the engine first),
 * list the imported ones, and caption images with any of them.
 */
import { cpSync, existsSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { ApiError } from '../../shared/errors';
import type { CaptionResult, CheckpointChoice, DecodingSettings, ModelPackageInfo } from '../../shared/inferenceTypes';
import type { EvaluationRecord, JsonObject } from '../../shared/storeTypes';
import type { Logger } from '../core/logger';
import type { EngineSupervisor } from '../engine/supervisor';
import type { ExperimentStore } from '../store';
import { readPackageInfo } from '../lib/packages/packageInfo';
import { resolveCheckpoint } from './checkpoints';

/** What the models domain needs; the workbench's services satisfy it. */
export interface ModelDeps {
  dataDir: string;
  store: ExperimentStore;
  engine: EngineSupervisor;
  logger: Logger;
}

export const modelsDir = (dataDir: string): string => join(dataDir, 'models');

/** Folder-safe model names: what `models.import` accepts and `models.caption` looks up. */
export const MODEL_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;

export function slugName(name: string): string {
  const slug = name.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^[^A-Za-z0-9]+/, '').slice(0, 100);
  return slug || 'model';
}

/** The evaluation that best describes a checkpoint: on test if there is one, else the newest. */
function headlineEvaluation(evaluations: EvaluationRecord[]): EvaluationRecord | null {
  return evaluations.find((evaluation) => evaluation.split === 'test') ?? evaluations[0] ?? null;
}

export interface ExportRequest {
  runId: number;
  checkpoint: CheckpointChoice;
  out: string;
  name?: string | undefined;
  decoding: Partial<DecodingSettings>;
  overwrite: boolean;
}

export async function exportModel(services: ModelDeps, request: ExportRequest): Promise<ModelPackageInfo> {
  if (!isAbsolute(request.out)) throw new ApiError('invalid_request', `out must be an absolute path (got "${request.out}").`);
  const checkpoint = await resolveCheckpoint(services.store, request.runId, request.checkpoint);
  const run = (await services.store.runs.get(request.runId))!;
  const evaluations = (await services.store.evaluations.list({ runId: request.runId })).filter((evaluation) => evaluation.checkpointId === checkpoint.id);
  const headline = headlineEvaluation(evaluations);
  const metrics: JsonObject = {
    checkpoint: { epoch: checkpoint.epoch, step: checkpoint.step, isBest: checkpoint.isBest, validation: checkpoint.metrics },
    evaluations: evaluations.map((evaluation) => ({
      id: evaluation.id,
      split: evaluation.split,
      images: evaluation.imageCount,
      decoding: evaluation.decoding,
      aggregate: evaluation.aggregate,
      createdAt: evaluation.createdAt,
    })),
    definitions: 'coco-caption BLEU-1..4, ROUGE-L, CIDEr-D on PTB-like tokenized captions; METEOR and SPICE not computed.',
  };
  const info = await services.engine.call('models.export', {
    checkpointPath: checkpoint.path,
    out: request.out,
    name: request.name ?? `${run.name}-epoch${checkpoint.epoch}`,
    overwrite: request.overwrite,
    dataDir: services.dataDir,
    source: { runId: run.id, runName: run.name, checkpoint: { epoch: checkpoint.epoch, step: checkpoint.step } },
    decoding: request.decoding,
    metrics,
    evaluation: headline ? { split: headline.split, images: headline.imageCount, aggregate: headline.aggregate } : null,
  });
  const inDataDir = !relative(services.dataDir, request.out).startsWith('..');
  if (inDataDir) {
    await services.store.artifacts.add({ runId: run.id, kind: 'model-package', name: info.name, path: request.out, meta: { checkpointId: checkpoint.id } });
  }
  return info;
}

export async function importModel(services: ModelDeps, request: { path: string; name?: string | undefined; overwrite: boolean }): Promise<ModelPackageInfo> {
  const source = resolve(request.path);
  if (!existsSync(source) || !statSync(source).isDirectory()) throw new ApiError('not_found', `${source}: no such package folder.`);
  // Loads every weight in the engine: a package that imports is a package that captions.
  const inspected = await services.engine.call('models.inspect', { dir: source });
  const name = request.name ?? slugName(inspected.name);
  if (!MODEL_NAME.test(name)) throw new ApiError('invalid_request', `Model name "${name}" may use letters, digits, ".", "_" and "-" only.`);
  const target = join(modelsDir(services.dataDir), name);
  if (resolve(source) === resolve(target)) return readPackageInfo(target);
  if (existsSync(target) && !request.overwrite) throw new ApiError('conflict', `A model named "${name}" is already imported; choose another name or overwrite it.`);
  const temp = `${target}.tmp-${randomBytes(4).toString('hex')}`;
  cpSync(source, temp, { recursive: true });
  // The imported copy carries the name it is known by here.
  const configFile = join(temp, 'config.json');
  const config = JSON.parse(readFileSync(configFile, 'utf8')) as { name: string };
  writeFileSync(configFile, `${JSON.stringify({ ...config, name }, null, 2)}\n`);
  if (existsSync(target)) rmSync(target, { recursive: true, force: true });
  renameSync(temp, target);
  services.logger.log('info', `Imported model "${name}" from ${source}.`);
  return readPackageInfo(target);
}

export function listModels(services: ModelDeps): ModelPackageInfo[] {
  const dir = modelsDir(services.dataDir);
  if (!existsSync(dir)) return [];
  const out: ModelPackageInfo[] = [];
  for (const name of readdirSync(dir).sort()) {
    if (name.includes('.tmp-')) continue;
    try {
      out.push(readPackageInfo(join(dir, name)));
    } catch (error) {
      services.logger.log('warn', `Skipping ${join(dir, name)}: ${(error as Error).message}`);
    }
  }
  return out;
}

/** An imported model's name, or the folder of any package. */
export function resolveModel(services: ModelDeps, model: string): string {
  if (MODEL_NAME.test(model)) {
    const imported = join(modelsDir(services.dataDir), model);
    if (existsSync(join(imported, 'config.json'))) return imported;
  }
  const folder = resolve(model);
  if (existsSync(join(folder, 'config.json'))) return folder;
  throw new ApiError('not_found', `No model "${model}": neither an imported model nor a package folder with a config.json.`);
}

export async function captionWithModel(
  services: ModelDeps,
  request: { model: string; images: string[]; decoding: Partial<DecodingSettings>; batchSize: number },
  signal?: AbortSignal,
): Promise<{ model: string; decoding: DecodingSettings; captions: CaptionResult[] }> {
  const dir = resolveModel(services, request.model);
  const images = request.images.map((image) => resolve(image));
  const answer = await services.engine.call('models.caption', { dir, files: images, decoding: request.decoding, batchSize: request.batchSize }, signal ? { signal } : {});
  return { model: dir, ...answer };
}

/** The models domain: export, import, list and caption, over explicit dependencies. */
export class ModelService {
  constructor(private readonly deps: ModelDeps) {}

  export(request: ExportRequest): Promise<ModelPackageInfo> {
    return exportModel(this.deps, request);
  }

  import(request: { path: string; name?: string | undefined; overwrite: boolean }): Promise<ModelPackageInfo> {
    return importModel(this.deps, request);
  }

  list(): ModelPackageInfo[] {
    return listModels(this.deps);
  }

  resolve(model: string): string {
    return resolveModel(this.deps, model);
  }

  caption(request: { model: string; images: string[]; decoding: Partial<DecodingSettings>; batchSize: number }, signal?: AbortSignal) {
    return captionWithModel(this.deps, request, signal);
  }
}
