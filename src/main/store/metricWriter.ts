/**
 * Buffers metric points from training loops and commits them in batches: one
 * transaction per flush instead of one per point, which is what keeps
 * per-step logging cheap. Flushes when `maxRows` points are waiting, when the
 * oldest has waited `maxDelayMs`, on `flush()` and on `close()`.
 *
 * Rules: `write` validates at once (a bad point throws there, naming the
 * field) and never waits for the database. Points are committed in the order
 * written. If a batch fails (say its run was deleted meanwhile), the writer
 * retries run by run so other runs' points still land, and reports the run it
 * had to drop through `onError`.
 */
import type { MetricInput } from '../../shared/storeTypes';
import { requireCount, requireFinite, requireId, requireText } from './validate';

export interface MetricWriterOptions {
  /** Commit when this many points are waiting. */
  maxRows?: number;
  /** Commit when the oldest waiting point is this old. */
  maxDelayMs?: number;
  onError?: (message: string) => void;
}

export const DEFAULT_WRITER_OPTIONS = { maxRows: 1000, maxDelayMs: 1000 } as const;

export class MetricWriter {
  private buffer: MetricInput[] = [];
  private timer: NodeJS.Timeout | null = null;
  private flushing: Promise<void> = Promise.resolve();
  private closed = false;
  private readonly maxRows: number;
  private readonly maxDelayMs: number;

  constructor(
    private readonly append: (points: MetricInput[]) => Promise<void>,
    private readonly options: MetricWriterOptions = {},
  ) {
    this.maxRows = options.maxRows ?? DEFAULT_WRITER_OPTIONS.maxRows;
    this.maxDelayMs = options.maxDelayMs ?? DEFAULT_WRITER_OPTIONS.maxDelayMs;
  }

  /** Points waiting for the next flush. */
  get pending(): number {
    return this.buffer.length;
  }

  /** Queues one point (`time` defaults to now). Throws for invalid values. */
  write(point: MetricInput): void {
    if (this.closed) throw new Error('The metric writer is closed; the store was closed.');
    requireId(point.runId, 'runId');
    requireText(point.key, 'key', 200);
    requireCount(point.step, 'step');
    requireCount(point.epoch, 'epoch');
    requireFinite(point.value, `value of ${point.key}`);
    this.buffer.push({ ...point, time: point.time ?? Date.now() });
    if (this.buffer.length >= this.maxRows) void this.flush();
    else if (!this.timer) {
      this.timer = setTimeout(() => void this.flush(), this.maxDelayMs);
      // A pending flush must not keep a finished CLI command alive; close() flushes.
      this.timer.unref();
    }
  }

  /** Commits everything written so far; resolves when it is in the database. */
  flush(): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    const batch = this.buffer;
    this.buffer = [];
    // Chained, so batches commit in the order they were written.
    this.flushing = this.flushing.then(() => (batch.length ? this.commit(batch) : undefined));
    return this.flushing;
  }

  /** Flushes and refuses further writes. */
  async close(): Promise<void> {
    if (this.closed) return this.flushing;
    await this.flush();
    this.closed = true;
  }

  private async commit(batch: MetricInput[]): Promise<void> {
    try {
      await this.append(batch);
      return;
    } catch {
      // Fall through: find the run(s) at fault and keep the others' points.
    }
    const byRun = new Map<number, MetricInput[]>();
    for (const point of batch) {
      const list = byRun.get(point.runId) ?? [];
      list.push(point);
      byRun.set(point.runId, list);
    }
    for (const [runId, points] of byRun) {
      try {
        await this.append(points);
      } catch (error) {
        this.options.onError?.(
          `Dropped ${points.length} metric points of run ${runId}: ${(error as Error).message}`,
        );
      }
    }
  }
}
