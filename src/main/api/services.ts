/** Everything the API handlers use. Built once per process by `createWorkbench`. */
import type { BatchService } from '../batch/service';
import type { EventBus } from '../core/eventBus';
import type { Logger } from '../core/logger';
import type { MediaRoots } from '../core/mediaRoots';
import type { DatasetService } from '../datasets/service';
import type { EvaluationService } from '../evaluation/evaluationService';
import type { EngineSupervisor } from '../engine/supervisor';
import type { ModelService } from '../inference/models';
import type { ExperimentStore } from '../store';
import type { TaskRuntime } from '../tasks/runtime';
import type { TrainingService } from '../training/trainingService';
import type { TuningService } from '../tuning/tuningService';

export interface Services {
  dataDir: string;
  bus: EventBus;
  logger: Logger;
  engine: EngineSupervisor;
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
}
