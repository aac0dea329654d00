/** `eval.*` and `models.*`: scoring, evaluation and model packages. */
import { existsSync } from 'node:fs';
import { ApiError } from '../../shared/errors';
import { resultsFileOf } from '../evaluation/evaluationService';
import type { HandlersFor } from './handlers';
import type { Services } from './services';

export function inferenceHandlers(services: Services): HandlersFor<'eval.' | 'models.'> {
  return {
    async 'eval.score'(request) {
      return services.engine.call('eval.score', request);
    },
    async 'eval.start'(request) {
      return services.evaluation.start(request);
    },
    async 'eval.get'(request) {
      const evaluation = await services.store.evaluations.get(request.evaluationId);
      if (!evaluation) throw new ApiError('not_found', `No evaluation with id ${request.evaluationId}.`);
      const items = await services.store.evaluations.items(request.evaluationId, { limit: request.limit, offset: request.offset });
      const resultsPath = resultsFileOf(services.dataDir, evaluation.id);
      return { evaluation, items, resultsPath: existsSync(resultsPath) ? resultsPath : null };
    },
    async 'eval.list'(request) {
      return services.store.evaluations.list(request.runId !== undefined ? { runId: request.runId } : {});
    },
    async 'models.export'(request) {
      return services.models.export(request);
    },
    async 'models.import'(request) {
      return services.models.import(request);
    },
    async 'models.list'() {
      return services.models.list();
    },
    async 'models.caption'(request) {
      return services.models.caption(request);
    },
  };
}
