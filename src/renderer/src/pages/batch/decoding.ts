/** The decoding choices the Batch page offers, as the API's partial decoding settings. */
import type { DecodingSettings } from '../../../../shared/inferenceTypes';

export interface DecodingChoice {
  strategy: DecodingSettings['strategy'];
  beamWidth: number;
  temperature: number;
  topK: number;
  topP: number;
}

export const DEFAULT_CHOICE: DecodingChoice = { strategy: 'beam', beamWidth: 3, temperature: 1, topK: 0, topP: 1 };

export function toDecoding(choice: DecodingChoice): Partial<DecodingSettings> {
  switch (choice.strategy) {
    case 'greedy':
      return { strategy: 'greedy' };
    case 'beam':
      return { strategy: 'beam', beamWidth: choice.beamWidth };
    case 'sample':
      return { strategy: 'sample', temperature: choice.temperature, topK: choice.topK, topP: choice.topP };
  }
}

/** Globs typed one per line or separated by commas. */
export function globList(text: string): string[] {
  return text
    .split(/[\n,]/)
    .map((glob) => glob.trim())
    .filter(Boolean);
}

export function formatConfidence(value: number | null): string {
  return value === null ? '—' : value.toFixed(3);
}
