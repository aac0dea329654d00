/** Time in the store: INTEGER milliseconds in the database, ISO strings in answers. */

export type Clock = () => number;

export const systemClock: Clock = () => Date.now();

export function isoTime(ms: number): string;
export function isoTime(ms: number | null): string | null;
export function isoTime(ms: number | null): string | null {
  return ms === null ? null : new Date(ms).toISOString();
}
