/**
 * Exposes `window.api` and nothing else: one function per contract method and
 * one `onX` per event, built from the contract, and `api.desktop` (the native
 * folder picker, src/shared/desktop.ts). No raw ipcRenderer reaches the page.
 */
import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';
import { buildApi } from '../shared/apiClient';
import { buildDesktopApi } from '../shared/desktop';
import type { Envelope } from '../shared/errors';

const api = buildApi({
  kind: 'ipc',
  invoke: (method, request) => ipcRenderer.invoke(`api:${method}`, request) as Promise<Envelope<unknown>>,
  subscribe: (event, listener) => {
    const channel = `event:${event}`;
    const wrapped = (_event: IpcRendererEvent, payload: unknown) => listener(payload);
    ipcRenderer.on(channel, wrapped);
    return () => ipcRenderer.removeListener(channel, wrapped);
  },
  mediaUrl: (path, options) => {
    const params = new URLSearchParams({ path });
    if (options?.thumb) params.set('thumb', String(options.thumb));
    return `media://local/?${params.toString()}`;
  },
});

const desktop = buildDesktopApi((channel, request) => ipcRenderer.invoke(channel, request) as Promise<Envelope<unknown>>);

contextBridge.exposeInMainWorld('api', { ...api, desktop });
