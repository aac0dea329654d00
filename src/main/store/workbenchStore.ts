/**
 * The store as the workbench runs it (SQLite in the data directory, or a
 * shared PostgreSQL database: openStore.ts), its changes
 * forwarded as contract events (`run.updated`, `run.deleted`, `run.metrics`,
 * `task.updated`). Recovering interrupted work is the task runtime's job
 * (src/main/tasks/runtime.ts): it crashes stale tasks at start and from its
 * watchdog, and applies each kind's crash rule, which the store alone cannot.
 */
import type { EventBus } from '../core/eventBus';
import type { Logger } from '../core/logger';
import { describeStore, openExperimentStore, type StoreSpec } from './openStore';
import type { ExperimentStore } from './storage';

export function openWorkbenchStore(dataDir: string, bus: EventBus, logger: Logger, spec: StoreSpec = { kind: 'sqlite' }): ExperimentStore {
  const { store, ready } = openExperimentStore(spec, {
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
  ready.then(
    (migration) => {
      if (migration.applied.length) {
        logger.log('debug', `Database ${describeStore(spec)}: schema ${migration.from} → ${migration.to} (${migration.applied.join(', ')}).`);
      }
    },
    (error: unknown) => logger.error(`Cannot open the store ${describeStore(spec)}: ${(error as Error).message}`),
  );
  return store;
}
