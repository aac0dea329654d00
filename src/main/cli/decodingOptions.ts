/** The decoding flags `captioner eval` and `captioner caption` share. */
import { chosenConsensus, CONSENSUS_KINDS, type ConsensusChoice } from '../../shared/consensusKinds';
import { consensusLabel } from '../../shared/consensusLabel';
import type { DecodingSettings } from '../../shared/inferenceTypes';
import type { Options } from './args';
import { CliError, type CliContext } from './context';
import { missingRecommendedFlags, recommendedConsensus } from '../../shared/recommendedDecoding';

export const decodingFlags = {
  beam: { type: 'string' },
  greedy: { type: 'boolean', default: false },
  sample: { type: 'boolean', default: false },
  'length-penalty': { type: 'string' },
  'min-length': { type: 'string' },
  'max-length': { type: 'string' },
  'no-repeat-ngram': { type: 'string' },
  temperature: { type: 'string' },
  'top-k': { type: 'string' },
  'top-p': { type: 'string' },
  seed: { type: 'string' },
  'mirror-consensus': { type: 'boolean' },
  'converse-consensus': { type: 'boolean' },
  'relation-search': { type: 'boolean' },
} as const satisfies Options;

export const decodingUsage = `Decoding (default: beam search, width 3):
  --beam N              beam search with N beams
  --greedy              the most likely word at every step
  --sample              sample words (--temperature T, --top-k K, --top-p P, --seed S)
  --length-penalty A    beam: rank captions by log p / length^A (default 1)
  --min-length N        no <end> before N words (default 1)
  --max-length N        at most N words (default: the model's training limit)
  --no-repeat-ngram N   never repeat an N-gram within a caption
  --mirror-consensus    greedy or beam: also caption each image mirrored and
                        keep the caption both views find likeliest (models
                        trained with training.horizontalFlip; about two and
                        a half times the decoding time)
  --converse-consensus  greedy or beam: also read each caption that is one
                        relation between two things told from the other
                        ("a cross below a box" for "a box above a cross")
                        and keep the caption likeliest both ways; with
                        --mirror-consensus, on both views
  --relation-search     greedy or beam: also weigh each caption that is one
                        relation between two things with every other
                        relation phrase, ranked at the length of the caption
                        it came from (best with the consensus flags)`;

type DecodingValues = { [K in keyof typeof decodingFlags]?: (typeof decodingFlags)[K]['type'] extends 'boolean' ? boolean : string };

function number(value: string | undefined, flag: string, integer: boolean): number | undefined {
  if (value === undefined) return undefined;
  const parsed = Number(value);
  if (!Number.isFinite(parsed) || (integer && !Number.isInteger(parsed))) {
    throw new CliError(`--${flag} must be ${integer ? 'an integer' : 'a number'} (got "${value}").`, 2);
  }
  return parsed;
}

/** The flags as a partial DecodingSettings; the API validates the ranges. */
export function decodingFromFlags(values: DecodingValues): Partial<DecodingSettings> {
  const chosen = [values.beam !== undefined, values.greedy, values.sample].filter(Boolean).length;
  if (chosen > 1) throw new CliError('Choose one of --beam N, --greedy and --sample.', 2);
  const settings: Partial<DecodingSettings> = {};
  const set = <K extends keyof DecodingSettings>(key: K, value: DecodingSettings[K] | undefined) => {
    if (value !== undefined) settings[key] = value;
  };
  if (values.beam !== undefined) {
    settings.strategy = 'beam';
    set('beamWidth', number(values.beam, 'beam', true));
  }
  if (values.greedy) settings.strategy = 'greedy';
  if (values.sample) settings.strategy = 'sample';
  set('lengthPenalty', number(values['length-penalty'], 'length-penalty', false));
  set('minLength', number(values['min-length'], 'min-length', true));
  set('maxLength', number(values['max-length'], 'max-length', true));
  set('noRepeatNgramSize', number(values['no-repeat-ngram'], 'no-repeat-ngram', true));
  set('temperature', number(values.temperature, 'temperature', false));
  set('topK', number(values['top-k'], 'top-k', true));
  set('topP', number(values['top-p'], 'top-p', false));
  set('seed', number(values.seed, 'seed', true));
  for (const { key, flag } of CONSENSUS_KINDS) set(key, values[flag]);
  return settings;
}

export function describeDecoding(settings: DecodingSettings): string {
  const limits = `length ${settings.minLength}..${settings.maxLength}${settings.noRepeatNgramSize ? `, no repeated ${settings.noRepeatNgramSize}-grams` : ''}${consensusLabel(settings)}`;
  switch (settings.strategy) {
    case 'greedy':
      return `greedy, ${limits}`;
    case 'beam':
      return `beam ${settings.beamWidth}, length penalty ${settings.lengthPenalty}, ${limits}`;
    case 'sample':
      return `sampling (temperature ${settings.temperature}, top-k ${settings.topK || 'off'}, top-p ${settings.topP}, seed ${settings.seed}), ${limits}`;
  }
}

/** What a run's config recommends, read once by a command that decodes its checkpoint. */
export async function runRecommendation(cli: CliContext, runId: number): Promise<ConsensusChoice> {
  return recommendedConsensus((await cli.call('runs.get', { runId })).config);
}

/**
 * A line naming the decoding flags a run's config recommends that `decoding`
 * goes without ("" when none): the CLI decodes as its flags say, so a script's
 * numbers never change under it, and says what the app's forms would tick.
 */
export function recommendationNote(recommended: ConsensusChoice, decoding: Partial<DecodingSettings>): string {
  const leftOut = missingRecommendedFlags(recommended, decoding);
  return leftOut.length ? `Run's recommended decoding not used here: add ${leftOut.join(' ')} (or --recommended) to decode as it recommends.\n` : '';
}

/** `--recommended`, for the commands that decode a run's checkpoint. */
export const recommendedFlag = { recommended: { type: 'boolean', default: false } } as const satisfies Options;

export const recommendedUsage = `  --recommended         add the decodings the run's config recommends (its
                        decoding section, which the app's forms tick) to
                        the decoding flags`;

/**
 * `decoding` with the consensus decodings the run recommends added
 * (`--recommended`). Refused with sampling: they choose among greedy or
 * beam captions, and a run's recommendation would otherwise be dropped
 * without a word.
 */
export function withRecommendedDecoding(recommended: ConsensusChoice, decoding: Partial<DecodingSettings>): Partial<DecodingSettings> {
  if (decoding.strategy === 'sample') throw new CliError("--recommended adds the run's consensus decodings, which choose among greedy or beam captions: not with --sample.", 2);
  return { ...decoding, ...chosenConsensus(recommended) };
}
