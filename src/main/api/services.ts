/** Everything the API handlers use. Built once per process by `createWorkbench`. */
import type { BatchService } from '../batch/service';
import type { EventBus } from '../core/eventBus';
import type { Logger } from '../core/logger';
import type { MediaRoots } from '../core/mediaRoots';
import type { DatasetService } from '../datasets/service';
import type { EvaluationService } from '../evaluation/evaluationService';
import type { DatasetProcessHandlers } from '../engine/handlers/datasetProcess';
import type { EngineSupervisor } from '../engine/supervisor';
import type { ModelService } from '../inference/models';
import type { ExperimentStore } from '../store';
import type { StoreChoice } from '../store/openStore';
import type { TaskRuntime } from '../tasks/runtime';
import type { TrainingService } from '../training/trainingService';
import type { TuningService } from '../tuning/tuningService';

/** The desktop app's settings file, as read at start (serve mode and the CLI have none). */
export interface AppSettingsState {
  file: string;
  /** The store saved at start (`sqlite` or a postgres:// URL); null when none. */
  saved: string | null;
  /** Why the file could not be read, naming the file and field; null when it could. */
  error: string | null;
  /** CAPTIONER_STORE was set at start, so it chose the store instead of the setting. */
  overriddenByEnv: boolean;
}

export interface Services {
  dataDir: string;
  bus: EventBus;
  logger: Logger;
  engine: EngineSupervisor;
  /** The plain-Node dataset process (readers, stats, verification, Shapes rendering). */
  datasetProcess: EngineSupervisor<DatasetProcessHandlers>;
  mediaRoots: MediaRoots;
  /** Claims, runs, stops and resumes every long job (src/main/tasks). */
  tasks: TaskRuntime;
  /** Runs, metrics, checkpoints, datasets, evaluations, studies, batch jobs (src/main/store). */
  store: ExperimentStore;
  /** Training runs: start, stop, resume, and recording what the engine streams (src/main/training). */
  training: TrainingService;
  /** Dataset import, stats, browsing and Shapes generation (src/main/datasets). */
  datasets: DatasetService;
  /** Evaluations of run checkpoints as tasks (src/main/evaluation). */
  evaluation: EvaluationService;
  /** Model packages: export, import, list, caption (src/main/inference). */
  models: ModelService;
  /** Tuning studies as tasks: trials as training runs, sampler and pruner from src/main/lib/tuning (src/main/tuning). */
  tuning: TuningService;
  /** Batch captioning jobs: create, run, review, write outputs (src/main/batch). */
  batch: BatchService;
  /** The experiment store in use and where it was chosen (--store, CAPTIONER_STORE, settings, default). */
  storeChoice: StoreChoice;
  /** The desktop app's settings file; null in serve mode and the CLI. */
  appSettings: AppSettingsState | null;
}
