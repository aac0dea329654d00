/** Engine methods for model packages: export a checkpoint, check a package, caption images with one. */
import { statSync } from 'node:fs';
import { join } from 'node:path';
import type { CaptionResult, DecodingSettings, ModelPackageInfo } from '../../../shared/inferenceTypes';
import { captionFiles } from '../../ml/captioning/captionImages';
import { completeDecoding } from '../../ml/captioning/decoding';
import type { InferenceModel } from '../../ml/captioning/model';
import type { EngineContext } from '../protocol';
import { exportPackage, type ExportParams } from '../../ml/packages/exportPackage';
import { loadPackageModel } from '../../ml/packages/loadPackage';
import { readPackageInfo } from '../../lib/packages/packageInfo';

/**
 * The last package used stays loaded: captioning a few images at a time from
 * the UI should not reload weights on every call. A changed config.json
 * (re-export, re-import) reloads it.
 */
let cached: { dir: string; stamp: number; model: InferenceModel } | null = null;

async function packageModel(dir: string): Promise<InferenceModel> {
  const stamp = statSync(join(dir, 'config.json')).mtimeMs;
  if (cached && cached.dir === dir && cached.stamp === stamp) return cached.model;
  cached?.model.dispose();
  cached = null;
  const model = await loadPackageModel(dir);
  cached = { dir, stamp, model };
  return model;
}

export const packageEngineHandlers = {
  async 'models.export'(params: ExportParams, ctx: EngineContext): Promise<ModelPackageInfo> {
    ctx.progress({ stage: 'exporting', done: 0, total: 1 });
    const info = await exportPackage(params);
    ctx.progress({ stage: 'exporting', done: 1, total: 1 });
    return info;
  },

  /** Loads every part of a package (weights included) to prove it is usable, then answers its summary. */
  async 'models.inspect'(params: { dir: string }): Promise<ModelPackageInfo> {
    const model = await loadPackageModel(params.dir);
    model.dispose();
    return readPackageInfo(params.dir);
  },

  async 'models.caption'(
    params: { dir: string; files: string[]; decoding: Partial<DecodingSettings>; batchSize: number },
    ctx: EngineContext,
  ): Promise<{ decoding: DecodingSettings; captions: CaptionResult[] }> {
    const model = await packageModel(params.dir);
    const decoding = completeDecoding({ ...readPackageInfo(params.dir).decoding, ...params.decoding }, model.maxCaptionLength);
    const results = await captionFiles(model, params.files, decoding, {
      batchSize: params.batchSize,
      signal: ctx.signal,
      onBatch: (done, total) => ctx.progress({ stage: 'captioning', done, total }),
    });
    return {
      decoding,
      captions: results.map((result) => ({ image: result.file, caption: result.caption, logProb: result.logProb, error: result.error })),
    };
  },
};
