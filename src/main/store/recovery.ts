/**
 * Crash recovery. Work is `running` only while its owner keeps its task's
 * heartbeat fresh. When the owning process is gone (the app was killed) or
 * the heartbeat went stale (the engine hung or died without a word), the
 * task store marks the task `crashed` (`tasks.recoverStale`), and its run,
 * trial, batch job or study follows: its metrics, checkpoints and samples
 * stay, and the error says why and where it can resume. Queued work has no
 * owner and is left for an executor to claim.
 *
 * Runs at store open (the next start) and from the store's watchdog (while
 * the app runs). A live owner's work is judged by its heartbeat alone, so a
 * CLI opening the same data directory never crashes the app's runs.
 */
import type { RecoveryReport } from '../../shared/storeTypes';
import type { Db } from './db';

/**
 * Default silence after which running work counts as crashed. Training beats
 * with every metric flush (about once a second); five minutes leaves room for
 * a long validation pass on a slow CPU without a false alarm.
 */
export const DEFAULT_STALE_AFTER_MS = 5 * 60_000;

/** The crashed tasks (in the order given) and the domain rows that point at them. */
export function recoveryReport(db: Db, taskIds: readonly number[]): RecoveryReport {
  const report: RecoveryReport = { runs: [], trials: [], batchJobs: [], studies: [], tasks: [...taskIds] };
  const lookups = [
    [report.runs, db.prepare('SELECT id FROM runs WHERE task_id = ? ORDER BY id').pluck()],
    [report.trials, db.prepare('SELECT id FROM trials WHERE task_id = ? ORDER BY id').pluck()],
    [report.batchJobs, db.prepare('SELECT id FROM batch_jobs WHERE task_id = ? ORDER BY id').pluck()],
    [report.studies, db.prepare('SELECT id FROM studies WHERE task_id = ? ORDER BY id').pluck()],
  ] as const;
  for (const taskId of taskIds) {
    for (const [ids, select] of lookups) ids.push(...(select.all(taskId) as number[]));
  }
  return report;
}

export function isEmptyReport(report: RecoveryReport): boolean {
  return report.tasks.length === 0;
}
