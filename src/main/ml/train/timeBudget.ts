/**
 * `training.maxMinutes`: the wall-clock budget of a run's training loop
 * (steps and validation; set-up and pixel caching excluded), counted across
 * resumes. Two rules read it:
 * - after each epoch the loop stops cleanly (checkpoints written, outcome
 *   `completed`) when one more epoch as long as the last would end past the
 *   budget, rather than overrun it;
 * - a cosine schedule decays over whichever runs out first, its epochs or
 *   the budget (schedule.ts), so a run the budget cuts short still ends at a
 *   low rate instead of half way down its curve.
 */
export class TimeBudget {
  private readonly startedMs: number;

  /**
   * @param maxMinutes the budget; 0 = none.
   * @param spentBeforeSeconds seconds of the loop spent by earlier calls (a resumed run's `trainingSeconds`).
   */
  constructor(
    private readonly maxMinutes: number,
    private readonly spentBeforeSeconds: number,
    nowMs: number,
  ) {
    this.startedMs = nowMs;
  }

  /** Seconds of the loop so far, this call's and earlier calls'. */
  spentSeconds(nowMs: number): number {
    return this.spentBeforeSeconds + (nowMs - this.startedMs) / 1000;
  }

  /** The share of the budget spent, 0 to 1; always 0 without a budget. */
  spentShare(nowMs: number): number {
    if (this.maxMinutes <= 0) return 0;
    return Math.min(1, this.spentSeconds(nowMs) / (this.maxMinutes * 60));
  }

  /** Seconds left of the budget (never below 0); null without one. */
  leftSeconds(nowMs: number): number | null {
    if (this.maxMinutes <= 0) return null;
    return Math.max(0, this.maxMinutes * 60 - this.spentSeconds(nowMs));
  }

  /** Whether one more epoch as long as the one that started at `epochStartedMs` would end past the budget. */
  noRoomForAnotherEpoch(epochStartedMs: number, nowMs: number): boolean {
    if (this.maxMinutes <= 0) return false;
    return this.spentSeconds(nowMs) + (nowMs - epochStartedMs) / 1000 > this.maxMinutes * 60;
  }
}
