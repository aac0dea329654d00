/**
 * Assembles one workbench: data directory, logger, store, engine supervisor,
 * the task runtime with every domain's task handler, and the handlers
 * implementing the contract. The Electron entry, serve mode and the CLI all
 * start here; none of this imports electron.
 */
import { createHandlers } from './api';
import { BatchService } from './batch/service';
import { batchTaskHandler } from './batch/task';
import type { Handlers } from './api/handlers';
import type { AppSettingsState, Services } from './api/services';
import { resolveDataDir } from './core/dataDir';
import { EventBus } from './core/eventBus';
import { Logger } from './core/logger';
import { MediaRoots } from './core/mediaRoots';
import { DatasetService } from './datasets/service';
import { EvaluationService } from './evaluation/evaluationService';
import { ModelService } from './inference/models';
import type { EngineSpawner } from './engine/channel';
import { forkSpawner } from './engine/forkChannel';
import type { DatasetProcessHandlers } from './engine/handlers/datasetProcess';
import { EngineSupervisor } from './engine/supervisor';
import { resolveStoreChoice, type StoreChoice, type StoreSpec } from './store/openStore';
import { openWorkbenchStore } from './store/workbenchStore';
import { TaskRuntime, type TaskRuntimeOptions } from './tasks/runtime';
import { TrainingService } from './training/trainingService';
import { TuningService } from './tuning/tuningService';

export interface WorkbenchOptions {
  dataDir?: string | null;
  /** Default data directory when none is given (Electron's userData). */
  defaultDataDir?: string;
  spawnEngine?: EngineSpawner;
  /** The plain-Node dataset process (readers, stats, Shapes rendering). */
  spawnDatasets?: EngineSpawner;
  /** Echo log lines to stderr (the CLI turns this down for `--json`). */
  echoLogs?: boolean;
  /**
   * The experiment store: `sqlite` (default) or a `postgres://` URL shared by
   * several machines; unset falls back to `CAPTIONER_STORE`.
   */
  store?: string | StoreSpec | null;
  /** The store already chosen, with where it was chosen (the desktop app: from its settings); wins over `store`. */
  storeChoice?: StoreChoice;
  /** The desktop app's settings file and the store saved there (the System page shows and edits it). */
  appSettings?: AppSettingsState;
  /** How this process takes part in the task queue (a worker narrows the kinds; a follower executes nothing). */
  tasks?: TaskRuntimeOptions;
  /** How often a running study looks at its trials (tests shorten it). */
  tuningPollMs?: number;
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
  const datasetProcess = new EngineSupervisor<DatasetProcessHandlers>(
    options.spawnDatasets ?? forkSpawner(process.env, 'datasets'),
    { onLog: (level, message) => logger.log(level, message, 'datasets') },
    'dataset',
  );
  const mediaRoots = new MediaRoots();
  mediaRoots.add(dataDir);
  const storeChoice: StoreChoice =
    options.storeChoice ?? (typeof options.store === 'object' && options.store !== null ? { spec: options.store, source: 'flag' } : resolveStoreChoice(options.store));
  const store = openWorkbenchStore(dataDir, bus, logger, storeChoice.spec);
  if (options.appSettings?.error) logger.warn(`The store setting could not be read, so the embedded SQLite store is used: ${options.appSettings.error}`);
  const tasks = new TaskRuntime({ tasks: store.tasks, bus, logger }, options.tasks);
  const training = new TrainingService({ dataDir, store, engine, tasks, bus, logger });
  const datasets = new DatasetService({ dataDir, store, files: datasetProcess, tasks, mediaRoots, logger });
  const evaluation = new EvaluationService({ dataDir, store, engine, tasks, logger });
  const models = new ModelService({ dataDir, store, engine, logger });
  tasks.register(training.taskHandler());
  tasks.register(datasets.synthesisTask());
  tasks.register(datasets.importTask());
  tasks.register(evaluation.taskHandler());
  const tuning = new TuningService({ store, tasks, training, logger, ...(options.tuningPollMs !== undefined ? { pollMs: options.tuningPollMs } : {}) });
  tasks.register(tuning.studyTask());
  const batch = new BatchService({ dataDir, store, engine, bus, logger, tasks, mediaRoots });
  tasks.register(batchTaskHandler(batch));
  void datasets.restoreMediaRoots().catch((error: unknown) => logger.warn(`Could not reopen dataset folders: ${(error as Error).message}`));
  const services: Services = {
    dataDir, bus, logger, engine, datasetProcess, mediaRoots, tasks, store, training, datasets, evaluation, models, tuning, batch,
    storeChoice,
    appSettings: options.appSettings ?? null,
  };
  const handlers = createHandlers(services);
  const started = tasks.start().catch((error: unknown) => logger.error(`The task runtime could not start: ${(error as Error).message}`));
  return {
    services,
    handlers,
    async close() {
      await started;
      // Running tasks stop after their current step and save, so they can resume.
      await tasks.close();
      await Promise.all([engine.stop(), datasetProcess.stop()]);
      // After the tasks ended, so their last metrics are flushed and committed.
      await store.close();
    },
  };
}
