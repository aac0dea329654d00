/**
 * The decoding a run recommends for its checkpoints (its config's `decoding`
 * section): what the app's forms start from, and what the CLI names when its
 * flags leave it out. Runs stored before the section existed recommend none.
 */
import { CONSENSUS_KINDS, type ConsensusChoice, type ConsensusKey } from './consensusKinds';

/** What a stored run config recommends; read loosely, since a stored config may predate the section. */
export function recommendedConsensus(config: unknown): ConsensusChoice {
  const section = typeof config === 'object' && config !== null ? (config as { decoding?: unknown }).decoding : undefined;
  const said = typeof section === 'object' && section !== null ? (section as Record<string, unknown>) : {};
  return Object.fromEntries(CONSENSUS_KINDS.map(({ key }) => [key, said[key] === true])) as ConsensusChoice;
}

/** The flags of what a run recommends that a decoding leaves out (sampling takes none of them). */
export function missingRecommendedFlags(recommended: ConsensusChoice, decoding: { strategy?: string } & { [K in ConsensusKey]?: boolean }): string[] {
  if (decoding.strategy === 'sample') return [];
  return CONSENSUS_KINDS.filter(({ key }) => recommended[key] && decoding[key] !== true).map(({ flag }) => `--${flag}`);
}
