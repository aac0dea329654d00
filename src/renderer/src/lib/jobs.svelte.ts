/**
 * Live state of long jobs, fed by `job.progress` and `job.finished` events,
 * so any page can show a job's progress bar and cancel button by its id.
 */
import type { JobFinished, JobProgress, JobSummary } from '../../../shared/types';
import { api } from './api';

export interface LiveJob {
  jobId: string;
  kind: string;
  progress: JobProgress | null;
  finished: JobFinished | null;
}

class Jobs {
  byId = $state<Record<string, LiveJob>>({});
  private finishListeners = new Map<string, Array<(finished: JobFinished) => void>>();

  constructor() {
    api.onJobProgress((progress) => {
      const job = this.ensure(progress.jobId, progress.kind);
      job.progress = progress;
    });
    api.onJobFinished((finished) => {
      const job = this.ensure(finished.jobId, finished.kind);
      job.finished = finished;
      for (const listener of this.finishListeners.get(finished.jobId) ?? []) listener(finished);
      this.finishListeners.delete(finished.jobId);
    });
    void api.jobs
      .list({})
      .then((list: JobSummary[]) => {
        for (const summary of list) {
          const job = this.ensure(summary.jobId, summary.kind);
          job.progress ??= summary.progress;
          if (summary.status !== 'running' && !job.finished) {
            job.finished = { jobId: summary.jobId, kind: summary.kind, status: summary.status, ...(summary.error ? { error: summary.error } : {}) };
          }
        }
      })
      .catch(() => undefined);
  }

  /** Resolves when the job ends (at once if it already has). */
  whenFinished(jobId: string): Promise<JobFinished> {
    const done = this.byId[jobId]?.finished;
    if (done) return Promise.resolve(done);
    return new Promise((resolve) => {
      const list = this.finishListeners.get(jobId) ?? [];
      list.push(resolve);
      this.finishListeners.set(jobId, list);
    });
  }

  private ensure(jobId: string, kind: string): LiveJob {
    this.byId[jobId] ??= { jobId, kind, progress: null, finished: null };
    return this.byId[jobId]!;
  }
}

export const jobs = new Jobs();
