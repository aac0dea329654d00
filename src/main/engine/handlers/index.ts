/**
 * Every method the engine process answers, by domain. The supervisor's typed
 * `call` derives its method names, params and results from this object.
 * Plain-Node dataset work is answered by the dataset process instead
 * (datasetProcess.ts).
 */
import { batchEngineHandlers } from './batch';
import { evalEngineHandlers } from './eval';
import { explainEngineHandlers } from './explain';
import { packageEngineHandlers } from './packages';
import { systemEngineHandlers } from './system';
import { trainingEngineHandlers } from './training';

export const engineHandlers = {
  ...systemEngineHandlers,
  ...evalEngineHandlers,
  ...explainEngineHandlers,
  ...packageEngineHandlers,
  ...trainingEngineHandlers,
  ...batchEngineHandlers,
};

export type EngineHandlers = typeof engineHandlers;
