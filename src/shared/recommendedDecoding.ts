/**
 * The decoding a run recommends for its checkpoints (its config's `decoding`
 * section): what the app's forms start from, and what the CLI names when its
 * flags leave it out. Runs stored before the section existed recommend none.
 */

/** The boxes a form offers beside greedy and beam decoding. */
export interface ConsensusChoice {
  mirrorConsensus: boolean;
  converseConsensus: boolean;
  relationSearch: boolean;
}

export const NO_CONSENSUS: ConsensusChoice = { mirrorConsensus: false, converseConsensus: false, relationSearch: false };

/** The CLI flag of each box, in the order the usage lists them. */
export const CONSENSUS_FLAGS: ReadonlyArray<{ key: keyof ConsensusChoice; flag: string }> = [
  { key: 'mirrorConsensus', flag: '--mirror-consensus' },
  { key: 'converseConsensus', flag: '--converse-consensus' },
  { key: 'relationSearch', flag: '--relation-search' },
];

/** What a stored run config recommends; read loosely, since a stored config may predate the section. */
export function recommendedConsensus(config: unknown): ConsensusChoice {
  const section = typeof config === 'object' && config !== null ? (config as { decoding?: unknown }).decoding : undefined;
  const said = typeof section === 'object' && section !== null ? (section as Record<string, unknown>) : {};
  return {
    mirrorConsensus: said['mirrorConsensus'] === true,
    converseConsensus: said['converseConsensus'] === true,
    relationSearch: said['relationSearch'] === true,
  };
}

/** Whether a run recommends anything beyond plain greedy or beam decoding. */
export function recommendsConsensus(choice: ConsensusChoice): boolean {
  return choice.mirrorConsensus || choice.converseConsensus || choice.relationSearch;
}

/** The flags of what a run recommends that a decoding leaves out (sampling takes none of them). */
export function missingRecommendedFlags(recommended: ConsensusChoice, decoding: { strategy?: string; mirrorConsensus?: boolean; converseConsensus?: boolean; relationSearch?: boolean }): string[] {
  if (decoding.strategy === 'sample') return [];
  return CONSENSUS_FLAGS.filter(({ key }) => recommended[key] && decoding[key] !== true).map(({ flag }) => flag);
}
