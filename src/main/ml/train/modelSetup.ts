/**
 * Builds what a run trains from its config: the feature source (a scratch
 * CNN over decoded pixels, or frozen backbone features computed once), the
 * decoder sized to the vocabulary and the features, and the named list of
 * trainable weights that the optimizer and checkpoints use.
 */
import type * as tf from '@tensorflow/tfjs';
import type { RunConfig } from '../../../shared/runConfig';
import { CaptionDecoder, type DecoderOptions } from '../model/decoder';
import { addedChannels, SCRATCH_CNN_ID, ScratchCnn } from '../model/encoders/scratchCnn';
import { deriveSeed, Rng } from '../model/rng';
import type { EncoderRecord } from './checkpoint';
import type { TrainingData } from './data';
import { PixelFeatureSource, splitIds, type FeatureSource } from './featureSource';
import { openPixels, type SetupContext } from './setupContext';
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
    addedChannels: addedChannels({ coordinates: config.encoder.gridCoordinates, directions: config.encoder.gridDirections }),
    wordQuery: d.variant === 'attention' && d.attentionWordQuery,
    wordGlimpse: d.variant === 'attention' && d.attentionWordGlimpse,
    glimpseWords: d.attentionGlimpseWords,
    coverage: d.variant === 'attention' && d.attentionCoverage,
    recurrentInit: d.recurrentInit,
  };
}

export async function setUpModel(config: RunConfig, data: TrainingData, context: SetupContext): Promise<TrainingModel> {
  const seed = config.training.seed;
  if (config.encoder.source === SCRATCH_CNN_ID) {
    const size = config.encoder.imageSize;
    const { store: pixels, kept } = await openPixels(data, size, context);
    const { gridCoordinates: coordinates, gridDirections: directions, scratchStemStride: stemStride } = config.encoder;
    const gridCells = config.encoder.scratchGridCells || undefined;
    const separateCells = config.encoder.scratchSeparateCells || undefined;
    const encoder = new ScratchCnn(
      { inputSize: size, channels: config.encoder.scratchChannels, stemStride, coordinates, directions, gridCells, separateCells },
      new Rng(deriveSeed(seed, 'encoder')),
    );
    const source = new PixelFeatureSource(encoder, pixels, splitIds(kept), () => encoder.params.entries());
    const decoder = new CaptionDecoder(decoderOptionsFor(config, data.vocabulary.size, source.featureDim), new Rng(deriveSeed(seed, 'decoder')));
    return assemble(decoder, encoder, source, kept, {
      id: SCRATCH_CNN_ID,
      inputSize: size,
      normalization: encoder.spec.normalization,
      channels: config.encoder.scratchChannels,
      stemStride,
      coordinates,
      directions,
      ...(gridCells ? { gridCells } : {}),
      ...(separateCells ? { separateCells } : {}),
      source: null,
      featureLayer: null,
      weightsIncluded: true,
    });
  }
  if (config.encoder.gridCoordinates) {
    throw new Error(`encoder.gridCoordinates: only the scratch CNN can add grid coordinates; ${config.encoder.source} is a backbone (turn it off).`);
  }
  if (config.encoder.scratchStemStride !== 1) {
    throw new Error(`encoder.scratchStemStride: only the scratch CNN has a stem stride; ${config.encoder.source} is a backbone (set it to 1).`);
  }
  if (config.encoder.gridDirections) {
    throw new Error(`encoder.gridDirections: only the scratch CNN can add grid directions; ${config.encoder.source} is a backbone (turn it off).`);
  }
  if (config.encoder.scratchGridCells) {
    throw new Error(`encoder.scratchGridCells: only the scratch CNN's grid can be pooled; ${config.encoder.source} is a backbone (set it to 0).`);
  }
  if (config.encoder.scratchSeparateCells) {
    throw new Error(`encoder.scratchSeparateCells: only the scratch CNN can convolve its cells apart; ${config.encoder.source} is a backbone (turn it off).`);
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
