/**
 * Assembles one workbench: data directory, logger, engine supervisor, jobs
 * and the handlers implementing the contract. The Electron entry, serve mode
 * and the CLI all start here; none of this imports electron.
 */
import { createHandlers } from './api';
import { BatchService } from './batch/service';
import type { Handlers } from './api/handlers';
import type { Services } from './api/services';
import { resolveDataDir } from './core/dataDir';
import { EventBus } from './core/eventBus';
import { JobManager } from './core/jobs';
import { Logger } from './core/logger';
import { MediaRoots } from './core/mediaRoots';
import { DatasetService } from './datasets/service';
import type { EngineSpawner } from './engine/channel';
import { forkSpawner } from './engine/forkChannel';
import { EngineSupervisor } from './engine/supervisor';
import { openWorkbenchStore } from './store/workbenchStore';
import { TrainingService } from './training/trainingService';

export interface WorkbenchOptions {
  dataDir?: string | null;
  /** Default data directory when none is given (Electron's userData). */
  defaultDataDir?: string;
  spawnEngine?: EngineSpawner;
  /** Echo log lines to stderr (the CLI turns this down for `--json`). */
  echoLogs?: boolean;
}

export interface Workbench {
  services: Services;
  handlers: Handlers;
  close(): Promise<void>;
}

export function createWorkbench(options: WorkbenchOptions = {}): Workbench {
  const dataDir = resolveDataDir(options.dataDir, options.defaultDataDir);
  const bus = new EventBus();
  const logger = new Logger(bus, options.echoLogs === false ? () => undefined : undefined);
  const engine = new EngineSupervisor(options.spawnEngine ?? forkSpawner(), {
    onStatus: (status) => bus.emit('engine.status', status),
    onLog: (level, message) => logger.log(level, message, 'engine'),
  });
  const mediaRoots = new MediaRoots();
  mediaRoots.add(dataDir);
  const store = openWorkbenchStore(dataDir, bus, logger);
  const jobs = new JobManager(bus);
  const training = new TrainingService({ dataDir, store, engine, jobs, bus, logger });
  const datasets = new DatasetService({ dataDir, store, engine, jobs, mediaRoots, logger });
  void datasets.restoreMediaRoots().catch((error: unknown) => logger.warn(`Could not reopen dataset folders: ${(error as Error).message}`));
  const batch = new BatchService({ dataDir, store, engine, bus, logger, jobs, mediaRoots });
  const services: Services = { dataDir, bus, logger, jobs, engine, mediaRoots, store, training, datasets, batch };
  const handlers = createHandlers(services);
  return {
    services,
    handlers,
    async close() {
      for (const job of services.jobs.list()) if (job.status === 'running') services.jobs.cancel(job.jobId);
      await services.jobs.settle();
      await engine.stop();
      // After the jobs settled, so their last metrics are flushed and committed.
      await store.close();
    },
  };
}
