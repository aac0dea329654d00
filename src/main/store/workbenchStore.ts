/**
 * The store as the workbench runs it: in the data directory, its changes
 * forwarded as contract events (`run.updated`, `run.deleted`, `run.metrics`,
 * `task.updated`),
 * a watchdog that crashes silent runs while the app is open, and what it
 * recovered at open written to the log.
 */
import type { EventBus } from '../core/eventBus';
import type { Logger } from '../core/logger';
import { openSqliteStore, type SqliteExperimentStore } from './sqliteStore';

/** How often the open workbench looks for runs whose engine went silent. */
const WATCHDOG_INTERVAL_MS = 30_000;

export function openWorkbenchStore(dataDir: string, bus: EventBus, logger: Logger): SqliteExperimentStore {
  const store = openSqliteStore({
    dataDir,
    watchdogIntervalMs: WATCHDOG_INTERVAL_MS,
    hooks: {
      onRunChanged: (run) => bus.emit('run.updated', run),
      onRunDeleted: (runId) => bus.emit('run.deleted', { runId }),
      onMetrics: (batch) => bus.emit('run.metrics', batch),
      onTaskChanged: (task) => bus.emit('task.updated', task),
      onRecovered: (report) => {
        const parts = [
          report.runs.length ? `runs ${report.runs.join(', ')}` : '',
          report.trials.length ? `trials ${report.trials.join(', ')}` : '',
          report.batchJobs.length ? `batch jobs ${report.batchJobs.join(', ')}` : '',
          report.studies.length ? `studies ${report.studies.join(', ')}` : '',
          `tasks ${report.tasks.join(', ')}`,
        ].filter(Boolean);
        logger.warn(`Interrupted work marked crashed: ${parts.join('; ')}. What it logged is kept.`);
      },
      onError: (message) => logger.error(message),
    },
  });
  const { migration } = store.opened;
  if (migration.applied.length) {
    logger.log('debug', `Database ${store.file}: schema ${migration.from} → ${migration.to} (${migration.applied.join(', ')}).`);
  }
  return store;
}
