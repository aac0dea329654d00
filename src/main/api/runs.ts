/** `runs.*` handlers: the runs page, the live dashboard and the compare page, over the experiment store. */
import { ApiError } from '../../shared/errors';
import { compareRuns, exportRun, listRunsWithMetrics, runDetail } from '../store/queries';
import type { HandlersFor } from './handlers';
import type { Services } from './services';

export function runHandlers(services: Services): HandlersFor<'runs.'> {
  const { store } = services;
  // Reads of metrics first commit what training has buffered, so a chart
  // never lags the writer's flush interval.
  const fresh = () => store.metricWriter.flush();

  return {
    async 'runs.list'(request) {
      await fresh();
      const { metrics, ...filter } = request;
      return listRunsWithMetrics(store, filter, metrics);
    },
    async 'runs.get'(request) {
      await fresh();
      return runDetail(store, request.runId);
    },
    async 'runs.update'(request) {
      const { runId, ...update } = request;
      return store.runs.update(runId, update);
    },
    async 'runs.delete'(request) {
      await fresh();
      return store.runs.delete(request.runId, { force: request.force });
    },
    async 'runs.export'(request) {
      await fresh();
      return exportRun(store, request.runId);
    },
    async 'runs.metrics'(request) {
      await fresh();
      if (request.fromStep !== undefined && request.toStep !== undefined && request.fromStep > request.toStep) {
        throw new ApiError('invalid_request', `fromStep (${request.fromStep}) is after toStep (${request.toStep}).`, [
          { path: 'fromStep', message: 'must not exceed toStep' },
        ]);
      }
      const keys = request.keys ?? (await store.metrics.keys(request.runId));
      return Promise.all(
        keys.map((key) =>
          store.metrics.series(request.runId, key, {
            maxPoints: request.maxPoints,
            fromStep: request.fromStep,
            toStep: request.toStep,
          }),
        ),
      );
    },
    async 'runs.compare'(request) {
      await fresh();
      return compareRuns(store, request);
    },
    async 'runs.samples'(request) {
      return store.samples.list(request.runId, { epoch: request.epoch, limit: request.limit });
    },
    async 'runs.checkpoints'(request) {
      return store.checkpoints.list(request.runId);
    },
    async 'runs.artifacts'(request) {
      return store.artifacts.list(request.runId);
    },
    async 'runs.evaluations'(request) {
      if (!(await store.runs.get(request.runId))) throw new ApiError('not_found', `Run ${request.runId} does not exist.`);
      return store.evaluations.list({ runId: request.runId });
    },
    async 'runs.resumePoint'(request) {
      return store.runs.resumePoint(request.runId);
    },
    async 'runs.tags'() {
      return store.runs.tags();
    },
  };
}
