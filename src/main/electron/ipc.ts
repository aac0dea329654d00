/**
 * The API over Electron IPC: one `ipcMain.handle` per contract method, each
 * refusing senders other than the workbench's own window, and events pushed
 * with `webContents.send`. Takes ipcMain-shaped objects so tests can pass fakes.
 */
import { methodNames, type EventName } from '../../shared/contract';
import type { Envelope } from '../../shared/errors';
import { dispatch, type Handlers } from '../api/handlers';
import type { EventBus } from '../core/eventBus';

export const methodChannel = (method: string) => `api:${method}`;
export const eventChannel = (event: EventName) => `event:${event}`;

export interface IpcSender {
  readonly id: number;
}

export interface IpcInvokeEvent {
  readonly sender: IpcSender;
  readonly senderFrame?: { readonly url: string } | null;
}

export interface IpcMainLike {
  handle(channel: string, listener: (event: IpcInvokeEvent, request: unknown) => Promise<unknown>): void;
  removeHandler(channel: string): void;
}

export interface EventTarget {
  isDestroyed(): boolean;
  send(channel: string, payload: unknown): void;
}

export interface IpcOptions {
  handlers: Handlers;
  bus: EventBus;
  /** True only for the workbench window's own web contents and page. */
  isTrustedSender(event: IpcInvokeEvent): boolean;
  /** Where events go: the workbench window, while it exists. */
  eventTarget(): EventTarget | null;
}

export function registerIpc(ipcMain: IpcMainLike, options: IpcOptions): () => void {
  for (const method of methodNames) {
    ipcMain.handle(methodChannel(method), async (event, request): Promise<Envelope<unknown>> => {
      if (!options.isTrustedSender(event)) {
        return { ok: false, error: { code: 'forbidden', message: 'This window may not call the workbench API.' } };
      }
      return dispatch(options.handlers, method, request, { transport: 'ipc' });
    });
  }
  const detach = options.bus.attach((event, payload) => {
    const target = options.eventTarget();
    if (target && !target.isDestroyed()) target.send(eventChannel(event), payload);
  });
  return () => {
    detach();
    for (const method of methodNames) ipcMain.removeHandler(methodChannel(method));
  };
}
