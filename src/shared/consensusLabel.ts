import type { ConsensusKey } from './consensusKinds';

/** A decoding's consensus in words: "mirror and converse consensus, relation search" ("" for plain decoding). */
export function consensusNames(decoding: { [K in ConsensusKey]?: boolean | undefined }): string {
  const kinds = [decoding.mirrorConsensus ? 'mirror' : null, decoding.converseConsensus ? 'converse' : null].filter((kind) => kind !== null);
  const parts = [kinds.length ? `${kinds.join(' and ')} consensus` : null, decoding.relationSearch ? 'relation search' : null].filter((part) => part !== null);
  return parts.join(', ');
}

/** The same as it follows a decoding in a description: "", ", mirror consensus", ", mirror and converse consensus, relation search", … */
export function consensusLabel(decoding: Parameters<typeof consensusNames>[0]): string {
  const names = consensusNames(decoding);
  return names ? `, ${names}` : '';
}
