/**
 * Long jobs (training, synthesis, caching, evaluation, batch captioning):
 * each gets an id, streams `job.progress`, ends with one `job.finished`, and
 * can be cancelled. The work itself is a function, usually an engine call.
 */
import { randomUUID } from 'node:crypto';
import { ApiError } from '../../shared/errors';
import type { JobProgress, JobSummary } from '../../shared/types';
import type { EventBus } from './eventBus';

export interface JobContext {
  signal: AbortSignal;
  progress(progress: Omit<JobProgress, 'jobId' | 'kind'>): void;
}

interface JobRecord {
  summary: JobSummary;
  controller: AbortController;
  done: Promise<unknown>;
}

export class JobManager {
  private readonly jobs = new Map<string, JobRecord>();

  constructor(private readonly bus: EventBus) {}

  /** Starts `work` in the background and returns its id at once. */
  start<T>(kind: string, title: string, work: (context: JobContext) => Promise<T>): { jobId: string; done: Promise<T> } {
    const jobId = randomUUID();
    const controller = new AbortController();
    const summary: JobSummary = {
      jobId,
      kind,
      title,
      status: 'running',
      startedAt: new Date().toISOString(),
      finishedAt: null,
      progress: null,
      error: null,
    };
    const context: JobContext = {
      signal: controller.signal,
      progress: (progress) => {
        const full: JobProgress = { ...progress, jobId, kind };
        summary.progress = full;
        this.bus.emit('job.progress', full);
      },
    };
    const done = Promise.resolve()
      .then(() => work(context))
      .then(
        (result) => {
          this.finish(summary, controller.signal.aborted ? 'cancelled' : 'completed', null, result);
          return result;
        },
        (error: unknown) => {
          const cancelled = controller.signal.aborted || (error instanceof ApiError && error.code === 'cancelled');
          const message = error instanceof Error ? error.message : String(error);
          this.finish(summary, cancelled ? 'cancelled' : 'failed', message, undefined);
          throw error;
        },
      );
    // Failures are reported through `job.finished`; callers may also await `done`.
    done.catch(() => undefined);
    this.jobs.set(jobId, { summary, controller, done });
    return { jobId, done };
  }

  cancel(jobId: string): boolean {
    const job = this.jobs.get(jobId);
    if (!job) throw new ApiError('not_found', `No job with id ${jobId}.`);
    if (job.summary.status !== 'running') return false;
    job.controller.abort();
    return true;
  }

  list(): JobSummary[] {
    return [...this.jobs.values()].map((job) => ({ ...job.summary })).reverse();
  }

  /** Resolves when every running job has ended (used on shutdown). */
  async settle(): Promise<void> {
    await Promise.allSettled([...this.jobs.values()].map((job) => job.done));
  }

  private finish(summary: JobSummary, status: Exclude<JobSummary['status'], 'running'>, error: string | null, result: unknown): void {
    summary.status = status;
    summary.error = error;
    summary.finishedAt = new Date().toISOString();
    this.bus.emit('job.finished', {
      jobId: summary.jobId,
      kind: summary.kind,
      status,
      ...(error ? { error } : {}),
      ...(result !== undefined ? { result } : {}),
    });
  }
}
