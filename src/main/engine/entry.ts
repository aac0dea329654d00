/**
 * The engine process. Runs under `child_process.fork` (headless) or Electron's
 * `utilityProcess` (desktop); owns tfjs; answers calls from the main process.
 */
import { initBackend } from '../ml/backend';
import { engineHandlers } from './handlers/index';
import { serveHandlers } from './serveHandlers';

serveHandlers(engineHandlers, async () => {
  const backend = await initBackend();
  return `Engine ready on tfjs backend "${backend.name}" (${backend.device}).`;
}).catch((error: unknown) => {
  process.stderr.write(`Engine failed to start: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
