/** `batch.*`: batch captioning jobs (src/main/batch). */
import { placed } from '../../shared/placement';
import type { HandlersFor } from './handlers';
import type { Services } from './services';

export function batchHandlers(services: Services): HandlersFor<'batch.'> {
  const batch = services.batch;
  return {
    async 'batch.create'(request) {
      const { placement, ...options } = request;
      return batch.create(options, placed(placement));
    },
    async 'batch.resume'(request) {
      return batch.resume(request.jobId, placed(request.placement));
    },
    async 'batch.stop'(request) {
      return { stopping: await batch.stop(request.jobId) };
    },
    async 'batch.list'() {
      return batch.list();
    },
    async 'batch.get'(request) {
      return batch.summary(request.jobId);
    },
    async 'batch.items'(request) {
      const { jobId, ...query } = request;
      return batch.items(jobId, query);
    },
    async 'batch.edit'(request) {
      return batch.edit(request.jobId, request.path, request.caption);
    },
    async 'batch.recaption'(request) {
      return batch.recaption(request.jobId, request.paths, request.decoding);
    },
    async 'batch.writeOutputs'(request) {
      return batch.writeOutputs(request.jobId);
    },
    async 'batch.preview'(request) {
      return batch.preview(request);
    },
    async 'batch.delete'(request) {
      await batch.delete(request.jobId);
      return { deleted: true as const };
    },
  };
}
