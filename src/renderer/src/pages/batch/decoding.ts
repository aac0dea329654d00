/** The decoding choices the Batch page offers, as the API's partial decoding settings. */
import type { DecodingSettings } from '../../../../shared/inferenceTypes';
import { chosenConsensus, type ConsensusChoice } from '../../../../shared/consensusKinds';

export interface DecodingChoice extends ConsensusChoice {
  strategy: DecodingSettings['strategy'];
  beamWidth: number;
  temperature: number;
  topK: number;
  topP: number;
}

export const DEFAULT_CHOICE: DecodingChoice = { strategy: 'beam', beamWidth: 3, temperature: 1, topK: 0, topP: 1, mirrorConsensus: false, converseConsensus: false, relationSearch: false };

export function toDecoding(choice: DecodingChoice): Partial<DecodingSettings> {
  switch (choice.strategy) {
    case 'greedy':
      return { strategy: 'greedy', ...chosenConsensus(choice) };
    case 'beam':
      return { strategy: 'beam', beamWidth: choice.beamWidth, ...chosenConsensus(choice) };
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
