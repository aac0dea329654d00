/**
 * Every method the dataset process answers: plain Node only (readers,
 * statistics, Shapes rendering with sharp), so heavy file work never blocks
 * the main process and never waits behind a training step in the engine.
 */
import { dataEngineHandlers } from './data';
import { datasetFileHandlers } from './datasetFiles';

export const datasetProcessHandlers = {
  ...datasetFileHandlers,
  ...dataEngineHandlers,
};

export type DatasetProcessHandlers = typeof datasetProcessHandlers;
