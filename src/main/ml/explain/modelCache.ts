/**
 * The model last explained stays loaded: stepping through a gallery or
 * captioning in a playground asks for one image at a time, and reloading
 * the weights for each would dominate. A rewritten checkpoint or package
 * (newer file time) loads again.
 */
import { statSync } from 'node:fs';
import { join } from 'node:path';
import type { ExplainModelRef } from '../../../shared/galleryTypes';
import { loadCheckpointModel, type InferenceModel } from '../captioning/model';
import { loadPackageModel } from '../packages/loadPackage';

let cached: { key: string; stamp: number; model: InferenceModel } | null = null;

function keyOf(ref: ExplainModelRef): { key: string; file: string } {
  return ref.kind === 'checkpoint'
    ? { key: `checkpoint:${ref.path}`, file: join(ref.path, 'checkpoint.json') }
    : { key: `package:${ref.dir}`, file: join(ref.dir, 'config.json') };
}

/** The file's time; -1 when it is missing, and the loader then says what is wrong with the folder. */
function stampOf(file: string): number {
  try {
    return statSync(file).mtimeMs;
  } catch {
    return -1;
  }
}

export async function explainModel(ref: ExplainModelRef, context: { dataDir: string; signal?: AbortSignal }): Promise<InferenceModel> {
  const { key, file } = keyOf(ref);
  const stamp = stampOf(file);
  if (cached && cached.key === key && cached.stamp === stamp && stamp >= 0) return cached.model;
  releaseExplainModel();
  const model = ref.kind === 'checkpoint' ? await loadCheckpointModel(ref.path, context) : await loadPackageModel(ref.dir);
  cached = { key, stamp, model };
  return model;
}

/** Frees the cached model (tests, and before loading another). */
export function releaseExplainModel(): void {
  cached?.model.dispose();
  cached = null;
}
