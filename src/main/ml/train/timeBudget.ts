/**
 * `training.maxMinutes`: the loop checks after each epoch whether one more
 * epoch as long as the last would end past the budget, and stops cleanly
 * (checkpoints written, outcome `completed`) rather than overrun it.
 */
export function outOfTime(maxMinutes: number, loopStartedMs: number, epochStartedMs: number, nowMs: number): boolean {
  if (maxMinutes <= 0) return false;
  return nowMs - loopStartedMs + (nowMs - epochStartedMs) > maxMinutes * 60_000;
}
