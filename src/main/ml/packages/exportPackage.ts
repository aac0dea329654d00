/**
 * `captioner export`: a checkpoint as a self-contained model package. The
 * folder is written next to its destination, its caption.mjs is checked
 * against the engine (verifyScript.ts), and only then is it renamed into
 * place, so a failed export never leaves half a package where one is
 * expected.
 */
import { randomBytes } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { CONSENSUS_KINDS, type ConsensusKey } from '../../../shared/consensusKinds';
import { ApiError } from '../../../shared/errors';
import type { DecodingSettings, ModelPackageInfo } from '../../../shared/inferenceTypes';
import type { RunConfig } from '../../../shared/runConfig';
import type { JsonObject } from '../../../shared/storeTypes';
import { appRoot } from '../../core/paths';
import { appVersion } from '../../core/versions';
import { completeDecoding } from '../captioning/decoding';
import { loadCheckpointModel, type InferenceModel } from '../captioning/model';
import { EVAL_TOKENIZATION } from '../../lib/eval/tokenization';
import { BackboneEncoder } from '../model/encoders/backbone';
import { folderSaveHandler } from '../model/encoders/modelFiles';
import { ScratchCnn } from '../model/encoders/scratchCnn';
import { DECODER_WEIGHTS_FORMAT, PACKAGE_FORMAT, PACKAGE_VERSION, SCRATCH_WEIGHTS_FORMAT, type PackageConfig } from '../../lib/packages/packageConfig';
import { readPackageInfo } from '../../lib/packages/packageInfo';
import { verifyCaptionScript } from './verifyScript';
import { scratchPooling } from './pooling';
import { packageReadme } from './readme';
import { writeWeightsModel } from './weightsFile';

export interface ExportParams {
  checkpointPath: string;
  out: string;
  name: string;
  overwrite: boolean;
  dataDir: string;
  source: PackageConfig['source'];
  decoding: Partial<DecodingSettings>;
  /** Checkpoint validation metrics and stored evaluations, for metrics.json. */
  metrics: JsonObject;
  evaluation: ModelPackageInfo['evaluation'];
}

/** The example script shipped in every package. */
export function captionScriptTemplate(): string {
  return join(appRoot(), 'resources', 'model-package', 'caption.mjs');
}

function resizeDescription(fit: string, size: number, normalization: string): string {
  return `EXIF orientation applied, alpha composited onto white, sRGB, ${fit === 'squash' ? 'stretched' : 'center-cropped'} to ${size}x${size}, pixels normalized "${normalization}"`;
}

async function writeEncoder(
  model: InferenceModel,
  dir: string,
  normalizationSetting: RunConfig['encoder']['normalization'],
): Promise<PackageConfig['encoder']> {
  mkdirSync(dir, { recursive: true });
  const { encoder, encoderRecord } = model;
  const spec = encoder.spec;
  if (encoder instanceof ScratchCnn) {
    const stemStride = encoder.options.stemStride ?? 1;
    writeWeightsModel(dir, await encoder.params.serialize(), {
      format: SCRATCH_WEIGHTS_FORMAT,
      generatedBy: `Captioning Workbench ${appVersion()}`,
      modelTopology: {
        blocks: 4,
        kernel: 3,
        padding: 'same',
        activation: 'relu',
        maxPoolAfterBlocks: [0, 1, 2],
        channels: encoder.options.channels,
        ...(stemStride > 1 ? { stem: { kernel: encoder.params.get('conv0/kernel').shape[0], stride: stemStride } } : {}),
      },
    });
    return {
      kind: 'scratch-cnn',
      id: 'scratch-cnn',
      path: 'encoder/model.json',
      inputSize: spec.inputSize,
      channels: encoder.options.channels,
      stemStride,
      blocks: 4,
      pooling: scratchPooling(encoder),
      coordinates: encoder.options.coordinates ?? false,
      directions: encoder.options.directions ?? false,
      ...(encoder.options.gridCells ? { gridCells: encoder.options.gridCells } : {}),
      separateCells: encoder.options.separateCells ?? false,
      pooledDim: spec.pooledDim,
      gridShape: spec.gridShape,
    };
  }
  if (!(encoder instanceof BackboneEncoder) || !model.backbone) throw new Error('Only the scratch CNN and TensorFlow.js backbones can be exported.');
  const folder = model.backbone.folder;
  if (encoderRecord.weightsIncluded && encoder.layersModel) {
    // Fine-tuned: save the model with the trained weights in place.
    await encoder.layersModel.save(folderSaveHandler(dir));
  } else {
    copyFileSync(folder.file, join(dir, 'model.json'));
    for (const group of folder.json.weightsManifest) for (const shard of group.paths) copyFileSync(join(folder.dir, shard), join(dir, shard));
  }
  const entry = model.backbone.entry;
  const kerasForm = folder.format === 'layers' && entry !== null;
  return {
    kind: folder.format,
    id: spec.id,
    path: 'encoder/model.json',
    inputSize: spec.inputSize,
    featureLayer: encoder.featureLayer,
    // As BackboneEncoder.load decides: a catalog Keras model applies its own preprocessing unless a normalization was forced.
    modelPreprocessing: kerasForm && normalizationSetting === 'auto' ? entry.keras.preprocessing : 'zero-to-one',
    normalizationSetting,
    pooledDim: spec.pooledDim,
    gridShape: spec.gridShape,
  };
}

/** Why a package's own caption.mjs cannot follow each consensus decoding. */
const PACKAGE_LACKS: Record<ConsensusKey, string> = {
  mirrorConsensus: 'decodes the image alone',
  converseConsensus: 'decodes each caption once',
  relationSearch: "ranks the beam's own captions",
};

export async function exportPackage(params: ExportParams): Promise<ModelPackageInfo> {
  if (existsSync(params.out) && readdirSync(params.out).length > 0 && !params.overwrite) {
    throw new Error(`${params.out} exists and is not empty; choose another folder or overwrite it.`);
  }
  // The package's own caption.mjs decodes one view, each caption once: a default it cannot follow would caption differently there.
  for (const { key, name } of CONSENSUS_KINDS) {
    if (params.decoding[key]) {
      throw new ApiError('invalid_request', `A package's default decoding cannot use ${name} (its caption.mjs ${PACKAGE_LACKS[key]}); choose it when captioning with the package instead.`, [
        { path: `decoding.${key}`, message: 'not in a package default' },
      ]);
    }
  }
  const model = await loadCheckpointModel(params.checkpointPath, { dataDir: params.dataDir });
  const parent = dirname(params.out);
  mkdirSync(parent, { recursive: true });
  const temp = join(parent, `.${basename(params.out)}.tmp-${randomBytes(4).toString('hex')}`);
  try {
    mkdirSync(join(temp, 'decoder'), { recursive: true });
    const generatedBy = `Captioning Workbench ${appVersion()}`;
    const decoderOptions = model.decoder.options;
    writeWeightsModel(join(temp, 'decoder'), await model.decoder.params.serialize(), {
      format: DECODER_WEIGHTS_FORMAT,
      generatedBy,
      modelTopology: { ...decoderOptions, dropout: 0, note: 'Raw-op LSTM/GRU caption decoder; caption.mjs implements its forward pass.' },
    });
    const encoder = await writeEncoder(model, join(temp, 'encoder'), model.runConfig?.encoder.normalization ?? 'auto');
    model.vocabulary.save(join(temp, 'vocab.json'));
    const preprocessing = model.preprocessing;
    const config: PackageConfig = {
      format: PACKAGE_FORMAT,
      version: PACKAGE_VERSION,
      name: params.name,
      createdAt: new Date().toISOString(),
      generatedBy,
      source: params.source,
      encoder,
      preprocessing: {
        inputSize: preprocessing.inputSize,
        resize: preprocessing.fit,
        normalization: preprocessing.normalization,
        maxInputPixels: preprocessing.maxPixels,
        description: resizeDescription(preprocessing.fit, preprocessing.inputSize, preprocessing.normalization),
      },
      decoder: {
        path: 'decoder/model.json',
        variant: decoderOptions.variant,
        cell: decoderOptions.cell,
        layers: decoderOptions.layers,
        vocabSize: decoderOptions.vocabSize,
        embeddingDim: decoderOptions.embeddingDim,
        units: decoderOptions.units,
        attentionDim: decoderOptions.attentionDim,
        featureDim: decoderOptions.featureDim,
        ...(decoderOptions.wordQuery ? { wordQuery: true } : {}),
        ...(decoderOptions.wordGlimpse ? { wordGlimpse: true } : {}),
        ...(decoderOptions.wordGlimpse && decoderOptions.glimpseWords && decoderOptions.glimpseWords !== 2 ? { glimpseWords: decoderOptions.glimpseWords } : {}),
        ...(decoderOptions.coverage ? { coverage: true } : {}),
      },
      vocabulary: { path: 'vocab.json', size: model.vocabulary.size },
      decoding: packageDecoding(completeDecoding(params.decoding, model.maxCaptionLength)),
      tokenization: EVAL_TOKENIZATION,
      metrics: { path: 'metrics.json' },
    };
    writeFileSync(join(temp, 'config.json'), `${JSON.stringify(config, null, 2)}\n`);
    writeFileSync(join(temp, 'metrics.json'), `${JSON.stringify({ ...params.metrics, evaluation: params.evaluation }, null, 2)}\n`);
    writeFileSync(join(temp, 'README.md'), packageReadme(config, params.evaluation));
    copyFileSync(captionScriptTemplate(), join(temp, 'caption.mjs'));
    writeFileSync(
      join(temp, 'package.json'),
      `${JSON.stringify({ name: 'captioner-model', private: true, type: 'module', description: `Image captioning model "${params.name}"`, main: 'caption.mjs', dependencies: { '@tensorflow/tfjs-node': '4.22.0', sharp: '^0.34.4' } }, null, 2)}\n`,
    );
    await verifyCaptionScript(temp, model);
    let aside: string | null = null;
    if (existsSync(params.out)) {
      aside = `${temp}.old`;
      renameSync(params.out, aside);
    }
    renameSync(temp, params.out);
    if (aside) rmSync(aside, { recursive: true, force: true });
    return readPackageInfo(params.out);
  } catch (error) {
    rmSync(temp, { recursive: true, force: true });
    throw error;
  } finally {
    model.dispose();
  }
}

/** A package's default decoding holds what its caption.mjs follows: consensus and relation search, refused above, are left out. */
function packageDecoding(settings: DecodingSettings): DecodingSettings {
  const { mirrorConsensus: _mirror, converseConsensus: _converse, relationSearch: _search, ...rest } = settings;
  return rest;
}
