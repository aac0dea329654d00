/**
 * The dataset process: reads, pages and renders datasets in plain Node (no
 * TensorFlow.js), forked like the engine (`child_process.fork` headless,
 * Electron's `utilityProcess` in the app).
 */
import { datasetProcessHandlers } from './handlers/datasetProcess';
import { serveHandlers } from './serveHandlers';

serveHandlers(datasetProcessHandlers, async () => 'Dataset process ready.').catch((error: unknown) => {
  process.stderr.write(`Dataset process failed to start: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
