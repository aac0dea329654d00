/** All handlers, one group per domain. A missing method is a compile error here. */
import { batchHandlers } from './batch';
import { compareHandlers } from './compare';
import { datasetHandlers } from './datasets';
import { galleryHandlers } from './gallery';
import type { Handlers } from './handlers';
import type { Services } from './services';
import { inferenceHandlers } from './inference';
import { playgroundHandlers } from './playground';
import { runHandlers } from './runs';
import { storeHandlers } from './store';
import { systemHandlers } from './system';
import { taskHandlers } from './tasks';
import { trainingHandlers } from './training';
import { tuningHandlers } from './tuning';

export function createHandlers(services: Services): Handlers {
  return {
    ...systemHandlers(services),
    ...datasetHandlers(services),
    ...inferenceHandlers(services),
    ...galleryHandlers(services),
    ...runHandlers(services),
    ...trainingHandlers(services),
    ...compareHandlers(services),
    ...playgroundHandlers(services),
    ...taskHandlers(services),
    ...tuningHandlers(services),
    ...batchHandlers(services),
    ...storeHandlers(services),
  };
}
