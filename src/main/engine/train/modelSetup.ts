/**
 * Builds what a run trains from its config: the feature source (a scratch
 * CNN over decoded pixels, or frozen backbone features computed once), the
 * decoder sized to the vocabulary and the features, and the named list of
 * trainable weights that the optimizer and checkpoints use.
 */
import type * as tf from '@tensorflow/tfjs';
import type { RunConfig } from '../../../shared/runConfig';
import { CaptionDecoder, type DecoderOptions } from '../model/decoder';
import { SCRATCH_CNN_ID, ScratchCnn } from '../model/encoders/scratchCnn';
import { deriveSeed, Rng } from '../model/rng';
import type { EncoderRecord } from './checkpoint';
import { withoutImages, type TrainingData } from './data';
import { decodeSplit, PixelFeatureSource, type FeatureSource } from './featureSource';
import { backboneFeatureSource } from './backboneFeatures';

export interface TrainingModel {
  decoder: CaptionDecoder;
  /** The encoder whose weights train with the decoder, if any. */
  encoder: ScratchCnn | null;
  source: FeatureSource;
  encoderRecord: EncoderRecord;
  /** The data, less images that failed to decode. */
  data: TrainingData;
  /** Every trainable weight by checkpoint name: `decoder/…`, `encoder/…`. */
  namedParams(): Array<[string, tf.Variable]>;
  dispose(): void;
}

export interface SetupContext {
  signal?: AbortSignal;
  dataDir: string;
  log(level: 'info' | 'warn', message: string): void;
  progress(stage: string, done: number, total: number | null): void;
}

export function decoderOptionsFor(config: RunConfig, vocabularySize: number, featureDim: number): DecoderOptions {
  const d = config.decoder;
  return {
    variant: d.variant,
    cell: d.cell,
    layers: d.layers,
    vocabSize: vocabularySize,
    embeddingDim: d.embeddingDim,
    units: d.units,
    dropout: d.dropout,
    attentionDim: d.attentionDim,
    doublyStochasticWeight: d.doublyStochasticWeight,
    featureDim,
  };
}

export async function setUpModel(config: RunConfig, data: TrainingData, context: SetupContext): Promise<TrainingModel> {
  const seed = config.training.seed;
  if (config.encoder.source === SCRATCH_CNN_ID) {
    const size = config.encoder.imageSize;
    context.progress('decoding images', 0, 2);
    const train = await decodeSplit(data.train, size, context.signal);
    context.progress('decoding images', 1, 2);
    const val = await decodeSplit(data.val, size, context.signal);
    context.progress('decoding images', 2, 2);
    const failed = train.failed.size + val.failed.size;
    if (failed > 0) context.log('warn', `${failed} images could not be decoded and are left out of training and validation.`);
    const kept: TrainingData = { ...data, train: withoutImages(data.train, train.failed), val: withoutImages(data.val, val.failed) };
    const encoder = new ScratchCnn({ inputSize: size, channels: config.encoder.scratchChannels }, new Rng(deriveSeed(seed, 'encoder')));
    const source = new PixelFeatureSource(encoder, { train: train.bank, val: val.bank });
    const decoder = new CaptionDecoder(decoderOptionsFor(config, data.vocabulary.size, source.featureDim), new Rng(deriveSeed(seed, 'decoder')));
    return assemble(decoder, encoder, source, kept, {
      id: SCRATCH_CNN_ID,
      inputSize: size,
      normalization: encoder.spec.normalization,
      channels: config.encoder.scratchChannels,
      source: null,
      featureLayer: null,
      weightsIncluded: true,
    });
  }
  const backbone = await backboneFeatureSource(config, data, context);
  const decoder = new CaptionDecoder(
    decoderOptionsFor(config, data.vocabulary.size, backbone.source.featureDim),
    new Rng(deriveSeed(seed, 'decoder')),
  );
  return assemble(decoder, null, backbone.source, backbone.data, backbone.record);
}

function assemble(
  decoder: CaptionDecoder,
  encoder: ScratchCnn | null,
  source: FeatureSource,
  data: TrainingData,
  encoderRecord: EncoderRecord,
): TrainingModel {
  return {
    decoder,
    encoder,
    source,
    encoderRecord,
    data,
    namedParams: () => [
      ...decoder.params.entries().map(([name, variable]) => [`decoder/${name}`, variable] as [string, tf.Variable]),
      ...source.trainable().map(([name, variable]) => [`encoder/${name}`, variable] as [string, tf.Variable]),
    ],
    dispose() {
      decoder.dispose();
      encoder?.dispose();
      source.dispose();
    },
  };
}
