/** Durations on the command line: `90s`, `45m`, `2h`, `1h30m`, `1d12h` (whole numbers, units from days to seconds in that order). */
import { CliError } from './context';

const UNITS: ReadonlyArray<readonly [string, number]> = [
  ['d', 86_400],
  ['h', 3_600],
  ['m', 60],
  ['s', 1],
];
const PATTERN = /^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/;

/** Seconds in a duration given to `--flag`; anything else is an error naming the flag. */
export function parseDuration(text: string, flag: string): number {
  const trimmed = text.trim().toLowerCase();
  const match = PATTERN.exec(trimmed);
  if (!match || trimmed === '') {
    throw new CliError(`--${flag} must be a duration such as 90s, 45m, 2h or 1h30m (got "${text}").`, 2);
  }
  const seconds = UNITS.reduce((sum, [, size], index) => sum + Number(match[index + 1] ?? 0) * size, 0);
  if (seconds <= 0) throw new CliError(`--${flag} must be longer than 0 seconds (got "${text}").`, 2);
  return seconds;
}
