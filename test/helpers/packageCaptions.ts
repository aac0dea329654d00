/**
 * A checkpoint written from a decoder (and a scratch CNN), exported as a
 * model package, and the captions of the same
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
import type { Vocabulary } from '../../src/main/lib/data/text/vocabulary';
import type { CaptionDecoder } from '../../src/main/ml/model/decoder';
import type { ParamSet } from '../../src/main/ml/model/params';
import { writeCheckpoint, type EncoderRecord, type TrainingState } from '../../src/main/ml/train/checkpoint';
import type { ModelPackageInfo } from '../../src/shared/inferenceTypes';
import type { RunConfig } from '../../src/shared/runConfig';

interface CaptionScript {
  captionImages(files: string[], overrides: object, options: { tf: typeof tf; sharp: typeof sharp; quiet: boolean; dir: string }): Promise<{ image: string; caption: string }[]>;
}

/** A checkpoint at DIR/checkpoint holding the decoder's weights, and the scratch CNN's when given. */
export async function writeTestCheckpoint(
  dir: string,
  parts: { config: RunConfig; decoder: CaptionDecoder; encoder: EncoderRecord; vocabulary: Vocabulary; encoderParams?: ParamSet },
): Promise<string> {
  const checkpoint = join(dir, 'checkpoint');
  const prefixed = async (params: ParamSet, prefix: string) => (await params.serialize()).map((tensor) => ({ ...tensor, name: `${prefix}/${tensor.name}` }));
  await writeCheckpoint(checkpoint, {
    json: { backend: 'cpu', config: parts.config, decoder: parts.decoder.options, encoder: parts.encoder, vocabulary: parts.vocabulary.toJson(), state: {} as TrainingState, metrics: {} },
    weights: [...(await prefixed(parts.decoder.params, 'decoder')), ...(parts.encoderParams ? await prefixed(parts.encoderParams, 'encoder') : [])],
    optimizer: null,
  });
  return checkpoint;
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
