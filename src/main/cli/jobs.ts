/**
 * Running an API job from the command line: start it, show its progress,
 * answer its result, and turn Ctrl-C into `jobs.cancel` so the job stops
 * cleanly (the engine finishes its current batch) instead of being killed.
 */
import type { JobFinished, JobProgress } from '../../shared/types';
import { CliError, type CliContext } from './context';
import { progressPrinter } from './progress';

export async function runJob<T>(
  cli: CliContext,
  start: () => Promise<{ jobId: string }>,
  options: { showProgress: boolean; onProgress?: (progress: JobProgress) => void },
): Promise<T> {
  const printer = progressPrinter(options.showProgress);
  // Listen before starting, so not even a job that ends at once is missed.
  const early: Array<[string, unknown]> = [];
  let jobId: string | null = null;
  let settle: ((finished: JobFinished) => void) | null = null;
  const handle = (event: string, payload: unknown) => {
    const job = payload as { jobId?: string };
    if (jobId === null) {
      early.push([event, payload]);
      return;
    }
    if (job.jobId !== jobId) return;
    if (event === 'job.progress') {
      printer.update(payload as JobProgress);
      options.onProgress?.(payload as JobProgress);
    } else if (event === 'job.finished') {
      settle?.(payload as JobFinished);
    }
  };
  const detach = cli.workbench.services.bus.attach(handle);
  let interrupted = false;
  const onSigint = () => {
    if (interrupted || jobId === null) process.exit(130);
    interrupted = true;
    process.stderr.write('\nStopping… (Ctrl-C again to quit at once)\n');
    void cli.call('jobs.cancel', { jobId }).catch(() => undefined);
  };
  process.on('SIGINT', onSigint);
  try {
    const finished = await new Promise<JobFinished>((resolve, reject) => {
      settle = resolve;
      start().then(({ jobId: id }) => {
        jobId = id;
        for (const [event, payload] of early.splice(0)) handle(event, payload);
      }, reject);
    });
    printer.done();
    if (finished.status === 'completed') return finished.result as T;
    if (finished.status === 'cancelled') throw new CliError('Cancelled.', 130);
    throw new CliError(finished.error ?? 'The job failed.');
  } finally {
    printer.done();
    process.off('SIGINT', onSigint);
    detach();
  }
}
