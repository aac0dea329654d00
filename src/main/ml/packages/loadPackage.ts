/** A model package folder as an inference model, checked file by file. */
import { dirname, join, resolve, sep } from 'node:path';
import { Vocabulary } from '../../lib/data/text/vocabulary';
import { readJsonFile } from '../../lib/eval/jsonInput';
import type { FeatureEncoder } from '../features/encoder';
import type { EncoderRecord } from '../train/checkpoint';
import {
  backboneEncoderFrom,
  decoderFrom,
  disposeEncoder,
  MAX_INPUT_PIXELS,
  preprocessingOf,
  resolveBackboneFolder,
  scratchEncoderFrom,
  type InferenceModel,
} from '../captioning/model';
import type { ResolvedBackbone } from '../model/encoders/backbone';
import type { CaptionDecoder } from '../model/decoder';
import { DECODER_WEIGHTS_FORMAT, SCRATCH_WEIGHTS_FORMAT, type PackageConfig } from '../../lib/packages/packageConfig';
import { readPackageConfig } from '../../lib/packages/packageInfo';
import { scratchPooling } from './pooling';
import { readWeightsModel } from './weightsFile';

/** A path from config.json, refused if it points outside the package. */
function inside(dir: string, path: string, field: string): string {
  const full = resolve(dir, path);
  if (full !== resolve(dir) && !full.startsWith(resolve(dir) + sep)) {
    throw new Error(`${join(dir, 'config.json')}: ${field} ("${path}") points outside the package.`);
  }
  return full;
}

export async function loadPackageModel(dir: string): Promise<InferenceModel & { config: PackageConfig }> {
  const config = readPackageConfig(dir);
  const vocabularyFile = inside(dir, config.vocabulary.path, '$.vocabulary.path');
  const vocabulary = Vocabulary.fromJson(readJsonFile(vocabularyFile), vocabularyFile);
  if (vocabulary.size !== config.decoder.vocabSize) {
    throw new Error(`${vocabularyFile}: ${vocabulary.size} words, but config.json's decoder expects ${config.decoder.vocabSize}.`);
  }
  const e = config.encoder;
  const encoderDir = dirname(inside(dir, e.path, '$.encoder.path'));
  let encoder: FeatureEncoder;
  let backbone: ResolvedBackbone | null = null;
  let record: EncoderRecord;
  if (e.kind === 'scratch-cnn') {
    if (e.separateCells && !e.gridCells) throw new Error(`${join(dir, 'config.json')}: $.encoder.separateCells needs $.encoder.gridCells (the tiles a side).`);
    record = { id: e.id, inputSize: e.inputSize, normalization: config.preprocessing.normalization, channels: e.channels, stemStride: e.stemStride, coordinates: e.coordinates, directions: e.directions, ...(e.gridCells ? { gridCells: e.gridCells } : {}), ...(e.separateCells ? { separateCells: true } : {}), source: null, featureLayer: null, weightsIncluded: true };
    const { tensors } = readWeightsModel(encoderDir, SCRATCH_WEIGHTS_FORMAT);
    const scratch = scratchEncoderFrom(record, tensors, join(encoderDir, 'model.json'));
    const pooling = scratchPooling(scratch);
    if (pooling !== e.pooling) {
      scratch.dispose();
      throw new Error(`${join(dir, 'config.json')}: the package's scratch CNN pools by ${e.pooling}, this workbench's by ${pooling}; re-export it from its run.`);
    }
    encoder = scratch;
  } else {
    record = { id: e.id, inputSize: e.inputSize, normalization: config.preprocessing.normalization, channels: null, source: encoderDir, featureLayer: e.featureLayer, weightsIncluded: true };
    backbone = await resolveBackboneFolder(encoderDir, e.id);
    encoder = await backboneEncoderFrom(backbone, { featureLayer: e.featureLayer, normalization: e.normalizationSetting, fallbackInputSize: e.inputSize }, [], join(encoderDir, 'model.json'));
  }
  let decoder: CaptionDecoder;
  try {
    const decoderDir = dirname(inside(dir, config.decoder.path, '$.decoder.path'));
    const { tensors } = readWeightsModel(decoderDir, DECODER_WEIGHTS_FORMAT);
    const { path: _path, ...shape } = config.decoder;
    decoder = decoderFrom({ ...shape, dropout: 0, doublyStochasticWeight: 0 }, tensors, join(decoderDir, 'model.json'));
  } catch (error) {
    disposeEncoder(encoder);
    throw error;
  }
  const preprocessing = { ...preprocessingOf(encoder), fit: config.preprocessing.resize, maxPixels: config.preprocessing.maxInputPixels ?? MAX_INPUT_PIXELS };
  return {
    config,
    decoder,
    encoder,
    vocabulary,
    preprocessing,
    encoderRecord: record,
    runConfig: null,
    maxCaptionLength: config.decoding.maxLength,
    backbone,
    dispose() {
      decoder.dispose();
      disposeEncoder(encoder);
    },
  };
}
