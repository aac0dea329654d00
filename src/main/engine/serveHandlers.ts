/**
 * The child side of the worker protocol, shared by the engine and the
 * dataset process: connect to the parent (Electron's `parentPort` in a
 * utilityProcess, `process.send` in a fork), answer calls by id with their
 * progress, events, result or error, and abort a call's signal on `cancel`.
 */
import { ApiError, toErrorData } from '../../shared/errors';
import type { EngineContext, FromEngine, HandlerMap, ToEngine } from './protocol';

interface ParentPort {
  postMessage(message: unknown): void;
  on(event: 'message', listener: (event: { data: unknown }) => void): void;
}

interface Port {
  send(message: FromEngine): void;
  onMessage(listener: (message: ToEngine) => void): void;
}

function connect(): Port {
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
  throw new Error('This process must be started by the workbench (no IPC channel to its parent).');
}

/**
 * Serves `handlers` to the parent. `prepare` runs before the process reports
 * ready (the engine picks its TensorFlow backend there) and returns the line
 * it logs; calls that arrive meanwhile are answered once they can be.
 */
export async function serveHandlers(handlers: HandlerMap, prepare: () => Promise<string>): Promise<void> {
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
    void dispatch(handlers, message.method, message.params, context)
      .then((value) => port.send({ type: 'result', id: message.id, value }))
      .catch((error: unknown) => port.send({ type: 'error', id: message.id, error: toErrorData(error) }))
      .finally(() => controllers.delete(message.id));
  });

  log('info', await prepare());
  port.send({ type: 'ready', pid: process.pid });
}

async function dispatch(handlers: HandlerMap, method: string, params: unknown, context: EngineContext<unknown>): Promise<unknown> {
  if (!Object.prototype.hasOwnProperty.call(handlers, method)) {
    throw new ApiError('unknown_method', `This process has no method "${method}".`);
  }
  return handlers[method]!(params, context);
}
