/**
 * The decodings that choose among greedy or beam-search captions (ml/infer/
 * consensus.ts), one row each: the decoding setting, the CLI flag and the
 * name in words. Every list of them (the CLI's flags, a run's recommendation,
 * what a package refuses, the checks before decoding) reads this table, so a
 * new kind is added here once.
 */
export const CONSENSUS_KINDS = [
  { key: 'mirrorConsensus', flag: 'mirror-consensus', name: 'mirror consensus' },
  { key: 'converseConsensus', flag: 'converse-consensus', name: 'converse consensus' },
  { key: 'relationSearch', flag: 'relation-search', name: 'relation search' },
] as const;

export type ConsensusKey = (typeof CONSENSUS_KINDS)[number]['key'];

/** The boxes a form offers beside greedy and beam decoding. */
export type ConsensusChoice = Record<ConsensusKey, boolean>;

export const NO_CONSENSUS: ConsensusChoice = { mirrorConsensus: false, converseConsensus: false, relationSearch: false };

/** Only the kinds a choice ticks, as decoding settings: a request without them stays as it was. */
export function chosenConsensus(choice: ConsensusChoice): { [K in ConsensusKey]?: true } {
  return Object.fromEntries(CONSENSUS_KINDS.filter(({ key }) => choice[key]).map(({ key }) => [key, true]));
}

/** Whether a decoding asks for any of them. */
export function usesConsensus(decoding: { [K in ConsensusKey]?: boolean | undefined }): boolean {
  return CONSENSUS_KINDS.some(({ key }) => decoding[key] === true);
}
