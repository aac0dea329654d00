/** `playground.*`: upload an image, list the models to try, caption one image with several models. */
import { listModels, resolveModel } from '../inference/models';
import { PlaygroundService } from '../playground/service';
import type { HandlersFor } from './handlers';
import type { Services } from './services';

export function playgroundHandlers(services: Services): HandlersFor<'playground.'> {
  // Built per call: the store is opened after the handlers are.
  const playground = () =>
    new PlaygroundService({
      dataDir: services.dataDir,
      store: services.store,
      mediaRoots: services.mediaRoots,
      listPackages: () => listModels(services),
      resolvePackage: (model) => resolveModel(services, model),
      explain: (request) => services.engine.call('explain.caption', request),
    });
  return {
    async 'playground.upload'(request) {
      return playground().upload(request.name, request.data);
    },
    async 'playground.models'() {
      return playground().models();
    },
    async 'playground.caption'(request) {
      return playground().caption(request);
    },
  };
}
