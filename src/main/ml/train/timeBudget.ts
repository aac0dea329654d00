/**
 * `training.maxMinutes`: the wall-clock budget of a run's training loop
 * (steps and validation; set-up and pixel caching excluded), counted across
 * resumes. After each epoch the loop stops cleanly (checkpoints written,
 * outcome `completed`) when one more epoch as long as the last would end
 * past the budget, rather than overrun it. The learning-rate schedule does
 * not follow the budget: a cosine decay squeezed into the budget was
 * measured against one cut by it and lost (docs/shapes-benchmark.md, "Tried:
 * the cosine decayed over the time budget").
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
