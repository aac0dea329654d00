/**
 * The model a batch job captions with: a package folder or a run's
 * checkpoint folder, loaded once and kept while the same folder is asked for
 * again (previews and re-captioning call often with the same model). A
 * changed folder (re-export, newer checkpoint written in place) reloads.
 */
import { statSync } from 'node:fs';
import { join } from 'node:path';
import type { BatchModelSource } from '../../../shared/batchTypes';
import type { DecodingSettings } from '../../../shared/inferenceTypes';
import { readPackageInfo } from '../../lib/packages/packageInfo';
import { completeDecoding } from '../captioning/decoding';
import { loadCheckpointModel, type InferenceModel } from '../captioning/model';
import { loadPackageModel } from '../packages/loadPackage';

let cached: { key: string; model: InferenceModel } | null = null;

function stampOf(source: BatchModelSource): string {
  const file = source.kind === 'package' ? join(source.dir, 'config.json') : join(source.path, 'checkpoint.json');
  return `${source.kind}:${source.kind === 'package' ? source.dir : source.path}:${statSync(file).mtimeMs}`;
}

export async function batchModel(source: BatchModelSource, dataDir: string): Promise<InferenceModel> {
  const key = stampOf(source);
  if (cached?.key === key) return cached.model;
  cached?.model.dispose();
  cached = null;
  const model = source.kind === 'package' ? await loadPackageModel(source.dir) : await loadCheckpointModel(source.path, { dataDir });
  cached = { key, model };
  return model;
}

/** The decoding a job uses: the package's own settings (or the defaults) with the request's changes on top. */
export function batchDecoding(source: BatchModelSource, model: InferenceModel, requested: Partial<DecodingSettings>): DecodingSettings {
  const base = source.kind === 'package' ? readPackageInfo(source.dir).decoding : {};
  return completeDecoding({ ...base, ...requested }, model.maxCaptionLength);
}

/** Frees the kept model (tests and shutdown). */
export function releaseBatchModel(): void {
  cached?.model.dispose();
  cached = null;
}
