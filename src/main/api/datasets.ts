/** `datasets.*` handlers: thin wrappers over the DatasetService. */
import type { HandlersFor } from './handlers';
import type { Services } from './services';

export function datasetHandlers(services: Services): HandlersFor<'datasets.'> {
  const datasets = services.datasets;
  return {
    'datasets.import': (request) => datasets.import(request),
    'datasets.list': () => datasets.list(),
    'datasets.remove': (request) => datasets.remove(request.datasetId),
    'datasets.stats': (request) => datasets.stats(request),
    'datasets.browse': (request) => datasets.browse(request),
    'datasets.image': (request) => datasets.image(request),
    'datasets.synth': (request) => datasets.synth(request),
    'datasets.createShapes': (request) => datasets.createShapes(request),
    'datasets.groundedScore': (request) => datasets.groundedScore(request),
  };
}
