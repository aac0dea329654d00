/** `eval.*` and `models.*`: scoring, evaluation and model packages. */
import type { HandlersFor } from './handlers';
import type { Services } from './services';

export function inferenceHandlers(services: Services): HandlersFor<'eval.' | 'models.'> {
  return {
    async 'eval.score'(request) {
      return services.engine.call('eval.score', request);
    },
  };
}
