/**
 * Every export proves its caption.mjs right before the package is put in
 * place: the script, given the engine's tfjs, loads the written package and
 * must compute the engine's image features and the engine's greedy caption
 * for a probe image. A script that has drifted from the engine's model code
 * fails the export instead of shipping captions that differ.
 */
import * as tf from '@tensorflow/tfjs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { InferenceModel } from '../captioning/model';
import { greedyDecode } from '../infer/sequential';

interface ScriptFeatures {
  pooled: tf.Tensor2D;
  grid: tf.Tensor3D;
}

interface LoadedScriptPackage {
  encoder: { encode(images: tf.Tensor4D): ScriptFeatures };
  dispose(): void;
}

interface CaptionScript {
  loadPackage(tfjs: typeof tf, dir: string): Promise<LoadedScriptPackage>;
  decodeTokens(model: LoadedScriptPackage, features: ScriptFeatures, overrides: object): number[];
}

const FEATURE_TOLERANCE = 1e-4;

function largestGap(a: tf.Tensor, b: tf.Tensor): number {
  return tf.tidy(() => {
    const scale = Math.max(1, tf.max(tf.abs(a)).dataSync()[0]!);
    return tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]! / scale;
  });
}

export async function verifyCaptionScript(dir: string, model: InferenceModel): Promise<void> {
  const script = (await import(pathToFileURL(join(dir, 'caption.mjs')).href)) as CaptionScript;
  const loaded = await script.loadPackage(tf, dir);
  const size = model.preprocessing.inputSize;
  // A fixed, varied image in [0, 1]: every pixel differs, as in a photograph.
  const probe = tf.tidy(() => tf.add(tf.mul(tf.sin(tf.range(0, size * size * 3).reshape([1, size, size, 3])), 0.5), 0.5) as tf.Tensor4D);
  const engine = model.encoder.encode(probe);
  const mine = loaded.encoder.encode(probe);
  try {
    const gaps = { pooled: largestGap(engine.pooled, mine.pooled), grid: largestGap(engine.grid, mine.grid) };
    if (gaps.pooled > FEATURE_TOLERANCE || gaps.grid > FEATURE_TOLERANCE) {
      throw new Error(
        `caption.mjs does not reproduce this model's encoder (relative differences: pooled ${gaps.pooled.toExponential(2)}, grid ${gaps.grid.toExponential(2)}); the package was not written.`,
      );
    }
    const settings = { minLength: 1, maxLength: model.maxCaptionLength, noRepeatNgramSize: 0 };
    const expected = greedyDecode(model.decoder, engine, settings)[0]!.tokens;
    const actual = script.decodeTokens(loaded, engine, { strategy: 'greedy', ...settings });
    if (expected.join(' ') !== actual.join(' ')) {
      throw new Error(`caption.mjs does not reproduce this model's decoder (engine: [${expected}], script: [${actual}]); the package was not written.`);
    }
  } finally {
    tf.dispose([probe, engine.pooled, engine.grid, mine.pooled, mine.grid]);
    loaded.dispose();
  }
}
