/**
 * The experiment store: how the rest of the workbench keeps runs, metrics,
 * checkpoints, samples, evaluations, studies, batch jobs and the tasks that
 * carry all long work (`store.tasks`, rules on `TaskStore` in storage.ts).
 *
 * In the main process it is `services.store` (an `ExperimentStore`). Work is
 * queued as a task and run by whichever executor claims it:
 *
 *   const run = await store.runs.create({ name, config });            // and its queued training task
 *   const task = await store.tasks.claim(owner, ['training']);       // compare-and-set: one executor wins
 *   const { stopRequested } = await store.tasks.heartbeat(task.id, owner, progress);
 *   await store.tasks.finish(task.id, owner, { state: 'completed', result });
 *
 * The older style, where this process trains a run it creates (the status
 * setters are facades over the run's task):
 *
 *   const run = await store.runs.create({ name, config, datasetId, backend, machine, status: 'running' });
 *   const dir = await store.runs.directory(run.id);               // write checkpoints under here
 *   store.metricWriter.write({ runId: run.id, key: 'train/loss', step, epoch, value });  // buffered
 *   await store.checkpoints.add({ runId: run.id, epoch, step, path: join(dir, `epoch-${epoch}`), metrics, isBest });
 *   await store.samples.add(run.id, epoch, step, [{ imageId, imagePath, caption, references }]);
 *   await store.runs.heartbeat(run.id);                             // when no metric was logged for a while
 *   await store.metricWriter.flush();
 *   await store.runs.setStatus(run.id, 'completed');               // or 'stopped' / 'failed' with { error }
 *
 * Resuming: `await store.runs.resumePoint(runId)` gives the newest
 * checkpoint's path, epoch and step and the run's config; then
 * `setStatus(runId, 'running')` and keep logging (a repeated step replaces).
 *
 * Datasets: `await store.datasets.register({ name, path, format, stats })`.
 */
export type {
  ExperimentStore,
  StoreHooks,
  NewRun,
  RunUpdate,
  RunFilter,
  StatusChange,
  MetricRequest,
  SeriesOptions,
  CheckpointInput,
  ArtifactInput,
  SampleInput,
  DatasetInput,
  EvaluationInput,
  StudyInput,
  TrialResult,
  BatchJobInput,
  BatchResultInput,
  TaskStore,
  NewTask,
  TaskFilter,
  TaskEnd,
  HeartbeatAnswer,
} from './storage';
export { FACADE_WORKER } from './storage';
export { openSqliteStore, SqliteExperimentStore, type SqliteStoreOptions } from './sqliteStore';
export { MetricWriter } from './metricWriter';
export { NewerDatabaseError } from './migrate';
