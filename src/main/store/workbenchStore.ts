/**
 * The store as the workbench runs it: in the data directory, its changes
 * forwarded as contract events (`run.updated`, `run.deleted`, `run.metrics`,
 * `task.updated`). Recovering interrupted work is the task runtime's job
 * (src/main/tasks/runtime.ts): it crashes stale tasks at start and from its
 * watchdog, and applies each kind's crash rule, which the store alone cannot.
 */
import type { EventBus } from '../core/eventBus';
import type { Logger } from '../core/logger';
import { openSqliteStore, type SqliteExperimentStore } from './sqliteStore';

export function openWorkbenchStore(dataDir: string, bus: EventBus, logger: Logger): SqliteExperimentStore {
  const store = openSqliteStore({
    dataDir,
    recoverOnOpen: false,
    watchdogIntervalMs: 0,
    hooks: {
      onTaskChanged: (task) => bus.emit('task.updated', task),
      onRunChanged: (run) => bus.emit('run.updated', run),
      onRunDeleted: (runId) => bus.emit('run.deleted', { runId }),
      onMetrics: (batch) => bus.emit('run.metrics', batch),
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
