/**
 * Every method the engine process answers, by domain. The supervisor's typed
 * `call` derives its method names, params and results from this object.
 */
import { dataEngineHandlers } from './data/handlers';
import { evalEngineHandlers } from './eval/handlers';
import { packageEngineHandlers } from './packages/handlers';
import { systemEngineHandlers } from './system/handlers';
import { trainingEngineHandlers } from './train/handlers';

export const engineHandlers = {
  ...systemEngineHandlers,
  ...dataEngineHandlers,
  ...evalEngineHandlers,
  ...packageEngineHandlers,
  ...trainingEngineHandlers,
};

export type EngineHandlers = typeof engineHandlers;
