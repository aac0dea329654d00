/**
 * What a decoding reads of an image batch: the encoder's features, and with
 * mirror consensus (`DecodingSettings.mirrorConsensus`) the features of the
 * images mirrored left to right as well; and how it decodes them, with the
 * consensus the settings ask for (mirror, converse or both). Evaluation,
 * captioning, batch jobs and explanations all encode and decode through
 * here, so the settings mean the same everywhere.
 */
import * as tf from '@tensorflow/tfjs';
import { CONSENSUS_KINDS, usesConsensus } from '../../../shared/consensusKinds';
import { ApiError } from '../../../shared/errors';
import type { DecodingSettings } from '../../../shared/inferenceTypes';
import { learnedMirrors } from '../../../shared/runConfig';
import { converseIds } from '../../lib/data/text/converse';
import { mirrorIdMap } from '../../lib/data/text/mirror';
import { relationAlternativeIds } from '../../lib/data/text/relationAlternatives';
import { decode } from '../infer/decode';
import { consensusDecode } from '../infer/consensus';
import type { DecodedCaption } from '../infer/types';
import type { DecoderFeatures } from '../model/decoder';
import { toDecodeOptions } from './decoding';
import type { InferenceModel } from './model';

export interface ImageViews {
  features: DecoderFeatures;
  /** The mirrored images' features, row for row; null unless the decoding asks for mirror consensus. */
  mirrored: DecoderFeatures | null;
}

/**
 * Refuses settings the model cannot honour: consensus and relation search
 * need greedy or beam decoding, and mirror consensus a model that learned
 * mirrored images (see `learnedMirrors`; a package does not say, so it is
 * trusted).
 */
export function checkDecoding(model: InferenceModel, settings: DecodingSettings): void {
  for (const { key } of CONSENSUS_KINDS) {
    if (settings[key] && settings.strategy === 'sample') {
      throw new ApiError('invalid_request', `decoding.${key} chooses among greedy or beam-search captions; it does not apply to sampling.`, [
        { path: `decoding.${key}`, message: 'not with strategy "sample"' },
      ]);
    }
  }
  if (!settings.mirrorConsensus) return;
  if (model.runConfig && !learnedMirrors(model.runConfig)) {
    throw new ApiError(
      'invalid_request',
      'decoding.mirrorConsensus needs a model trained with training.horizontalFlip on pixels (a scratch CNN or a fine-tuned backbone): this one never saw a mirrored image, so its captions of one say nothing about the image.',
      [{ path: 'decoding.mirrorConsensus', message: 'the model was trained without mirrored images' }],
    );
  }
}

/** Runs the encoder over `input` ([count, size, size, 3], normalized), and over its mirror when `mirror`. */
export function encodeViews(model: InferenceModel, input: Float32Array, count: number, mirror: boolean): ImageViews {
  const size = model.preprocessing.inputSize;
  const encode = (mirrored: boolean): DecoderFeatures =>
    tf.tidy(() => {
      const images = tf.tensor4d(input, [count, size, size, 3]);
      // Axis 2 is the width: reversing it mirrors every image left to right.
      const encoded = model.encoder.encode(mirrored ? tf.reverse(images, 2) : images);
      return { pooled: encoded.pooled, grid: encoded.grid };
    });
  return { features: encode(false), mirrored: mirror ? encode(true) : null };
}

/** One caption per row: `decode`, or consensus decoding (mirror, converse, relation search, or any of them together) when the settings ask for it. */
export function decodeViews(model: InferenceModel, views: ImageViews, settings: DecodingSettings): DecodedCaption[] {
  const options = toDecodeOptions(settings);
  if (!usesConsensus(settings)) return decode(model.decoder, views.features, options);
  if (options.strategy === 'sample') throw new Error('Consensus decoding needs greedy or beam decoding (checkDecoding).');
  if (settings.mirrorConsensus && !views.mirrored) throw new Error('Mirror consensus needs the mirrored images (encodeViews with mirror).');
  const { vocabulary } = model;
  return consensusDecode(model.decoder, views, options, {
    mirror: settings.mirrorConsensus ? mirrorIdMap(vocabulary) : null,
    converse: settings.converseConsensus ? (tokens) => converseIds(tokens, vocabulary) : null,
    alternatives: settings.relationSearch ? (tokens) => relationAlternativeIds(tokens, vocabulary) : null,
  });
}

export function disposeViews(views: ImageViews): void {
  tf.dispose([views.features.pooled ?? [], views.features.grid ?? [], views.mirrored?.pooled ?? [], views.mirrored?.grid ?? []]);
}
