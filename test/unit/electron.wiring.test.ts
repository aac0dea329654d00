import { describe, expect, it } from 'vitest';
import { createHandlers } from '../../src/main/api';
import type { Handlers } from '../../src/main/api/handlers';
import { EventBus } from '../../src/main/core/eventBus';
import { eventChannel, methodChannel, registerIpc, type IpcInvokeEvent, type IpcMainLike } from '../../src/main/electron/ipc';
import { isAllowedNavigation, parseMediaUrl, secureWebPreferences } from '../../src/main/electron/security';
import { methodNames } from '../../src/shared/contract';

class FakeIpcMain implements IpcMainLike {
  readonly handlers = new Map<string, (event: IpcInvokeEvent, request: unknown) => Promise<unknown>>();
  handle(channel: string, listener: (event: IpcInvokeEvent, request: unknown) => Promise<unknown>): void {
    if (this.handlers.has(channel)) throw new Error(`Attempted to register a second handler for '${channel}'`);
    this.handlers.set(channel, listener);
  }
  removeHandler(channel: string): void {
    this.handlers.delete(channel);
  }
}

const windowSender = { id: 7 };
const trusted: IpcInvokeEvent = { sender: windowSender, senderFrame: { url: 'file:///app/out/renderer/index.html' } };

function wire(handlers: Handlers = createHandlers({} as never)) {
  const ipcMain = new FakeIpcMain();
  const bus = new EventBus();
  const sent: Array<[string, unknown]> = [];
  const target = { isDestroyed: () => false, send: (channel: string, payload: unknown) => sent.push([channel, payload]) };
  const unregister = registerIpc(ipcMain, {
    handlers,
    bus,
    isTrustedSender: (event) => event.sender.id === windowSender.id,
    eventTarget: () => target,
  });
  return { ipcMain, bus, sent, unregister };
}

describe('Electron IPC wiring', () => {
  it('registers one handler per contract method and nothing else', () => {
    const { ipcMain } = wire();
    expect([...ipcMain.handlers.keys()].sort()).toEqual(methodNames.map(methodChannel).sort());
  });

  it('validates requests and answers envelopes', async () => {
    const { ipcMain } = wire();
    const logs = ipcMain.handlers.get(methodChannel('system.logs'))!;
    const answer = (await logs(trusted, { limit: -1 })) as { ok: boolean; error?: { code: string } };
    expect(answer.ok).toBe(false);
    expect(answer.error?.code).toBe('invalid_request');
  });

  it('refuses calls from any other web contents', async () => {
    let called = false;
    const handlers = new Proxy({} as Handlers, { get: () => async () => ((called = true), 'secret') });
    const { ipcMain } = wire(handlers);
    const info = ipcMain.handlers.get(methodChannel('system.info'))!;
    const answer = (await info({ sender: { id: 99 }, senderFrame: { url: 'https://evil.example/' } }, {})) as {
      ok: boolean;
      error?: { code: string };
    };
    expect(answer).toMatchObject({ ok: false, error: { code: 'forbidden' } });
    expect(called).toBe(false);
    await expect(info(trusted, {})).resolves.toEqual({ ok: true, value: 'secret' });
  });

  it('pushes bus events to the window on their channel', () => {
    const { bus, sent } = wire();
    bus.emit('engine.status', { state: 'ready', pid: 1, restarts: 0, lastExit: null });
    expect(sent).toEqual([[eventChannel('engine.status'), { state: 'ready', pid: 1, restarts: 0, lastExit: null }]]);
  });

  it('removes every handler and stops events when unregistered', () => {
    const { ipcMain, bus, sent, unregister } = wire();
    unregister();
    expect(ipcMain.handlers.size).toBe(0);
    bus.emit('system.log', { time: '', level: 'info', source: 'main', message: 'x' });
    expect(sent).toHaveLength(0);
  });
});

describe('window security', () => {
  it('isolates, sandboxes and disables Node in the renderer', () => {
    const prefs = secureWebPreferences('/app/preload.js');
    expect(prefs).toMatchObject({ contextIsolation: true, sandbox: true, nodeIntegration: false, webSecurity: true, webviewTag: false });
  });

  it('allows navigation only within the app page', () => {
    expect(isAllowedNavigation('http://localhost:5173/#/runs', 'http://localhost:5173/')).toBe(true);
    expect(isAllowedNavigation('https://example.com/', 'http://localhost:5173/')).toBe(false);
    expect(isAllowedNavigation('file:///app/out/renderer/index.html#/system', 'file:///app/out/renderer/index.html')).toBe(true);
    expect(isAllowedNavigation('file:///etc/passwd', 'file:///app/out/renderer/index.html')).toBe(false);
    expect(isAllowedNavigation('not a url', 'file:///app/index.html')).toBe(false);
  });

  it('parses media URLs and rejects other schemes', () => {
    expect(parseMediaUrl('media://local/?path=%2Fdata%2Fa.jpg&thumb=256')).toEqual({ path: '/data/a.jpg', thumb: 256 });
    expect(parseMediaUrl('file:///data/a.jpg')).toBeNull();
    expect(parseMediaUrl('media://local/')).toBeNull();
  });
});
