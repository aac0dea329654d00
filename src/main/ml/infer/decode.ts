/** One entry point for every decoding strategy, and the defaults the API and the training loop use. */
import type { DecoderFeatures } from '../model/decoder';
import { beamSearch } from './beam';
import { greedyDecode, sampleDecode } from './sequential';
import type { DecodedCaption, DecodeOptions, StepDecoder } from './types';

export function decode<S>(model: StepDecoder<S>, features: DecoderFeatures, options: DecodeOptions): DecodedCaption[] {
  switch (options.strategy) {
    case 'greedy':
      return greedyDecode(model, features, options);
    case 'beam':
      return beamSearch(model, features, options);
    case 'sample':
      return sampleDecode(model, features, options);
  }
}
