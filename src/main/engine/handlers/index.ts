/**
 * Every method the engine process answers, by domain. The supervisor's typed
 * `call` derives its method names, params and results from this object.
 */
import { batchEngineHandlers } from './batch';
import { dataEngineHandlers } from './data';
import { evalEngineHandlers } from './eval';
import { packageEngineHandlers } from './packages';
import { systemEngineHandlers } from './system';
import { trainingEngineHandlers } from './training';

export const engineHandlers = {
  ...systemEngineHandlers,
  ...dataEngineHandlers,
  ...evalEngineHandlers,
  ...packageEngineHandlers,
  ...trainingEngineHandlers,
  ...batchEngineHandlers,
};

export type EngineHandlers = typeof engineHandlers;
