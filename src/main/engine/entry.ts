/**
 * The engine process. Runs under `child_process.fork` (headless) or Electron's
 * `utilityProcess` (desktop); owns tfjs; answers calls from the main process.
 */
import { ApiError, toErrorData } from '../../shared/errors';
import { initBackend } from '../ml/backend';
import { engineHandlers } from './handlers/index';
import type { EngineContext, FromEngine, ToEngine } from './protocol';

interface ParentPort {
  postMessage(message: unknown): void;
  on(event: 'message', listener: (event: { data: unknown }) => void): void;
}

/** `process.parentPort` exists in a utilityProcess; `process.send` in a fork. */
function connect(): { send(message: FromEngine): void; onMessage(listener: (message: ToEngine) => void): void } {
  const parentPort = (process as unknown as { parentPort?: ParentPort }).parentPort;
  if (parentPort) {
    return {
      send: (message) => parentPort.postMessage(message),
      onMessage: (listener) => parentPort.on('message', (event) => listener(event.data as ToEngine)),
    };
  }
  if (process.send) {
    const send = process.send.bind(process);
    return {
      send: (message) => void send(message),
      onMessage: (listener) => process.on('message', (message) => listener(message as ToEngine)),
    };
  }
  throw new Error('The engine must be started by the workbench (no IPC channel to its parent).');
}

async function main(): Promise<void> {
  const port = connect();
  const controllers = new Map<number, AbortController>();
  const log: EngineContext['log'] = (level, message) => port.send({ type: 'log', level, message });

  port.onMessage((message) => {
    if (message.type === 'cancel') {
      controllers.get(message.id)?.abort();
      return;
    }
    const controller = new AbortController();
    controllers.set(message.id, controller);
    const context: EngineContext<unknown> = {
      signal: controller.signal,
      progress: (progress) => port.send({ type: 'progress', id: message.id, progress }),
      emit: (event) => port.send({ type: 'event', id: message.id, event }),
      log,
    };
    void run(message.method, message.params, context)
      .then((value) => port.send({ type: 'result', id: message.id, value }))
      .catch((error: unknown) => port.send({ type: 'error', id: message.id, error: toErrorData(error) }))
      .finally(() => controllers.delete(message.id));
  });

  const backend = await initBackend();
  log('info', `Engine ready on tfjs backend "${backend.name}" (${backend.device}).`);
  port.send({ type: 'ready', pid: process.pid });
}

async function run(method: string, params: unknown, context: EngineContext<unknown>): Promise<unknown> {
  if (!Object.prototype.hasOwnProperty.call(engineHandlers, method)) {
    throw new ApiError('unknown_method', `The engine has no method "${method}".`);
  }
  const handler = engineHandlers[method as keyof typeof engineHandlers] as (
    params: unknown,
    context: EngineContext<unknown>,
  ) => Promise<unknown>;
  return handler(params, context);
}

main().catch((error: unknown) => {
  process.stderr.write(`Engine failed to start: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
