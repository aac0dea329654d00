/** `tuning.*` handlers: thin, the work is in TuningService and src/main/lib/tuning. */
import { placed } from '../../shared/placement';
import { validationGoal } from '../../shared/metricKeys';
import type { JsonObject } from '../../shared/storeTypes';
import { defaultSearchSpace, searchSpaceToJson } from '../lib/tuning';
import type { HandlersFor } from './handlers';
import type { Services } from './services';

export function tuningHandlers(services: Services): HandlersFor<'tuning.'> {
  return {
    async 'tuning.create'(request) {
      type Algorithm = string | { name: string; options?: JsonObject };
      return services.tuning.createStudy({
        name: request.name,
        objective: request.objective,
        direction: request.direction ?? validationGoal(request.objective),
        baseConfig: request.baseConfig as JsonObject,
        trials: request.trials,
        parallel: request.parallel,
        ...(request.timeoutSeconds !== undefined ? { timeoutSeconds: request.timeoutSeconds } : {}),
        ...(request.searchSpace ? { searchSpace: request.searchSpace as JsonObject } : {}),
        ...(request.sampler ? { sampler: request.sampler as Algorithm } : {}),
        ...(request.pruner ? { pruner: request.pruner as Algorithm } : {}),
        ...placed(request.placement),
      });
    },
    async 'tuning.list'() {
      return services.tuning.list();
    },
    async 'tuning.overview'() {
      return services.tuning.overview();
    },
    async 'tuning.get'(request) {
      return services.tuning.details(request.studyId);
    },
    async 'tuning.stop'(request) {
      return services.tuning.stop(request.studyId);
    },
    async 'tuning.resume'(request) {
      return services.tuning.resume(request.studyId, placed(request.placement));
    },
    async 'tuning.importance'(request) {
      const result = await services.tuning.importances(request.studyId);
      return { completeTrials: result.completeTrials, importances: result.normalized };
    },
    async 'tuning.enqueue'(request) {
      return services.tuning.enqueue(request.studyId, request.params);
    },
    async 'tuning.export'(request) {
      return services.tuning.exportStudy(request.studyId);
    },
    async 'tuning.defaultSpace'() {
      return searchSpaceToJson(defaultSearchSpace()) as JsonObject;
    },
  };
}
