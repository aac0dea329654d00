/** Decoding settings as the API states them, turned into the decoding engine's options. */
import type { DecodingSettings } from '../../../shared/inferenceTypes';
import type { DecodeOptions } from '../infer/types';

/** Defaults when a request leaves settings out; maxLength falls back to the model's training limit. */
export const DEFAULT_DECODING: Omit<DecodingSettings, 'maxLength'> = {
  strategy: 'beam',
  beamWidth: 3,
  lengthPenalty: 1,
  minLength: 1,
  noRepeatNgramSize: 0,
  temperature: 1,
  topK: 0,
  topP: 1,
  seed: 1,
};

export function completeDecoding(partial: Partial<DecodingSettings>, modelMaxLength: number): DecodingSettings {
  return { ...DEFAULT_DECODING, maxLength: modelMaxLength, ...stripUndefined(partial) };
}

export function toDecodeOptions(settings: DecodingSettings): DecodeOptions {
  const constraints = { minLength: settings.minLength, maxLength: settings.maxLength, noRepeatNgramSize: settings.noRepeatNgramSize };
  switch (settings.strategy) {
    case 'greedy':
      return { strategy: 'greedy', ...constraints };
    case 'beam':
      return { strategy: 'beam', beamWidth: settings.beamWidth, lengthPenalty: settings.lengthPenalty, ...constraints };
    case 'sample':
      return { strategy: 'sample', temperature: settings.temperature, topK: settings.topK, topP: settings.topP, seed: settings.seed, ...constraints };
  }
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
