/**
 * A checkpoint exported as a model package, and the captions of the same
 * image files three ways: from the checkpoint, from the loaded package and
 * from the package's own caption.mjs (beam 2), which must all agree.
 */
import * as tf from '@tensorflow/tfjs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import sharp from 'sharp';
import { captionFiles } from '../../src/main/ml/captioning/captionImages';
import { completeDecoding } from '../../src/main/ml/captioning/decoding';
import { loadCheckpointModel } from '../../src/main/ml/captioning/model';
import { exportPackage } from '../../src/main/ml/packages/exportPackage';
import { loadPackageModel } from '../../src/main/ml/packages/loadPackage';
import type { ModelPackageInfo } from '../../src/shared/inferenceTypes';

interface CaptionScript {
  captionImages(files: string[], overrides: object, options: { tf: typeof tf; sharp: typeof sharp; quiet: boolean; dir: string }): Promise<{ image: string; caption: string }[]>;
}

/** Exports `checkpoint` to DIR/package with beam 2 as its default decoding. */
export async function exportTestPackage(checkpoint: string, dir: string, name: string): Promise<{ out: string; info: ModelPackageInfo }> {
  const out = join(dir, 'package');
  const info = await exportPackage({
    checkpointPath: checkpoint,
    out,
    name,
    overwrite: false,
    dataDir: dir,
    source: { runId: null, runName: null, checkpoint: null },
    decoding: { strategy: 'beam', beamWidth: 2 },
    metrics: {},
    evaluation: null,
  });
  return { out, info };
}

export interface ThreeWays {
  checkpoint: Array<string | null>;
  package: Array<string | null>;
  script: string[];
}

/** The captions of `files` from the checkpoint, the package loaded by the engine and the package's caption.mjs. */
export async function captionThreeWays(checkpoint: string, out: string, dataDir: string, files: string[], maxLength: number): Promise<ThreeWays> {
  const settings = completeDecoding({ strategy: 'beam', beamWidth: 2 }, maxLength);
  const fromCheckpoint = await loadCheckpointModel(checkpoint, { dataDir });
  const expected = (await captionFiles(fromCheckpoint, files, settings)).map((result) => result.caption);
  fromCheckpoint.dispose();
  const fromPackage = await loadPackageModel(out);
  const packaged = (await captionFiles(fromPackage, files, settings)).map((result) => result.caption);
  fromPackage.dispose();
  const script = (await import(pathToFileURL(join(out, 'caption.mjs')).href)) as CaptionScript;
  const fromScript = await script.captionImages(files, {}, { tf, sharp, quiet: true, dir: out });
  return { checkpoint: expected, package: packaged, script: fromScript.map((result) => result.caption) };
}
