/**
 * A worker process's handlers served in the test's own process, through the
 * same channel interface as a fork: calls, progress, events, cancel. For
 * tests of main-process code that need real handlers without a process start.
 */
import type { EngineChannel, EngineSpawner } from '../../src/main/engine/channel';
import type { EngineContext, FromEngine, HandlerMap, ToEngine } from '../../src/main/engine/protocol';
import { toErrorData } from '../../src/shared/errors';

export function inProcessSpawner(handlers: HandlerMap): EngineSpawner {
  return () => new InProcessChannel(handlers);
}

class InProcessChannel implements EngineChannel {
  readonly pid = process.pid;
  private listeners: Array<(message: FromEngine) => void> = [];
  private exitListeners: Array<(reason: string) => void> = [];
  private readonly controllers = new Map<number, AbortController>();

  constructor(private readonly handlers: HandlerMap) {
    queueMicrotask(() => this.emit({ type: 'ready', pid: this.pid }));
  }

  send(message: ToEngine): void {
    if (message.type === 'cancel') {
      this.controllers.get(message.id)?.abort();
      return;
    }
    const controller = new AbortController();
    this.controllers.set(message.id, controller);
    const context: EngineContext<unknown> = {
      signal: controller.signal,
      progress: (progress) => this.emit({ type: 'progress', id: message.id, progress }),
      emit: (event) => this.emit({ type: 'event', id: message.id, event }),
      log: (level, text) => this.emit({ type: 'log', level, message: text }),
    };
    const handler = this.handlers[message.method];
    const run = handler ? handler(message.params, context) : Promise.reject(new Error(`No method ${message.method}`));
    void run
      .then((value) => this.emit({ type: 'result', id: message.id, value }))
      .catch((error: unknown) => this.emit({ type: 'error', id: message.id, error: toErrorData(error) }))
      .finally(() => this.controllers.delete(message.id));
  }

  onMessage(listener: (message: FromEngine) => void): void {
    this.listeners.push(listener);
  }

  /** It exits only when killed (the supervisor's stop). */
  onExit(listener: (reason: string) => void): void {
    this.exitListeners.push(listener);
  }

  kill(): void {
    for (const controller of this.controllers.values()) controller.abort();
    this.listeners = [];
    for (const listener of this.exitListeners.splice(0)) listener('killed');
  }

  private emit(message: FromEngine): void {
    for (const listener of this.listeners) listener(message);
  }
}
