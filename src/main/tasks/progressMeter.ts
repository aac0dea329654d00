/**
 * Turns a task's reports of `done` into throughput and an ETA. One place for
 * what every long job needs: a rate over the recent past (not since the
 * start, so a slow warm-up does not skew the estimate), and an ETA only when
 * the total is known and something has been done.
 */
import type { TaskProgress } from '../../shared/taskTypes';
import type { ProgressUpdate } from './types';

/** How far back the rate looks. */
const WINDOW_MS = 30_000;

export class ProgressMeter {
  private samples: Array<{ at: number; done: number }> = [];
  private stage: string | null = null;

  constructor(private readonly now: () => number = Date.now) {}

  measure(update: ProgressUpdate): TaskProgress {
    const at = this.now();
    // A new stage (e.g. from decoding images to training) counts its own rate.
    if (update.stage !== this.stage || (this.samples.length > 0 && update.done < this.samples.at(-1)!.done)) {
      this.samples = [];
      this.stage = update.stage;
    }
    this.samples.push({ at, done: update.done });
    while (this.samples.length > 2 && at - this.samples[0]!.at > WINDOW_MS) this.samples.shift();
    const first = this.samples[0]!;
    const seconds = (at - first.at) / 1000;
    const throughput = seconds > 0 && update.done > first.done ? (update.done - first.done) / seconds : null;
    const etaSeconds =
      throughput !== null && update.total !== null ? Math.max(0, (update.total - update.done) / throughput) : null;
    return {
      stage: update.stage,
      done: update.done,
      total: update.total,
      unit: update.unit,
      throughput,
      etaSeconds,
      ...(update.message ? { message: update.message } : {}),
    };
  }
}
