/**
 * The desktop-only folder picker: one IPC channel, refused to other senders,
 * validated input, the picked folder granted to the media protocol (and
 * nothing granted on cancel), and the renderer-side object the preload
 * exposes turning answers and errors back into values and ApiErrors.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { MediaRoots } from '../../src/main/core/mediaRoots';
import { registerDesktopIpc, type OpenDialogOptions } from '../../src/main/electron/desktop';
import type { IpcInvokeEvent, IpcMainLike } from '../../src/main/electron/ipc';
import { buildDesktopApi, desktopChannels, dialogStart } from '../../src/shared/desktop';
import { ApiError, type Envelope } from '../../src/shared/errors';
import { tempDir } from '../helpers/datasetFixtures';

/** What the preload hands to the page, and what it invokes: Electron's preload modules, faked. */
const preload = vi.hoisted(() => ({ exposed: new Map<string, unknown>(), invoked: [] as Array<[string, unknown]> }));
vi.mock('electron', () => ({
  contextBridge: { exposeInMainWorld: (key: string, value: unknown) => preload.exposed.set(key, value) },
  ipcRenderer: {
    invoke: async (channel: string, request: unknown) => {
      preload.invoked.push([channel, request]);
      return { ok: true, value: channel === desktopChannels.chooseFolder ? '/picked' : 'answer' };
    },
    on: () => undefined,
    removeListener: () => undefined,
  },
}));

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

const { dir, cleanup } = tempDir('captioner-desktop-');
afterAll(() => cleanup());
const photos = join(dir, 'photos');
mkdirSync(photos, { recursive: true });
writeFileSync(join(photos, 'a.jpg'), 'x');
writeFileSync(join(dir, 'outside.jpg'), 'x');

const trusted: IpcInvokeEvent = { sender: { id: 7 }, senderFrame: { url: 'file:///app/out/renderer/index.html' } };

/** Wires the picker with a dialog that answers `answer` and records what it was asked. */
function wire(answer: { canceled: boolean; filePaths: string[] }) {
  const ipcMain = new FakeIpcMain();
  const roots = new MediaRoots();
  const asked: OpenDialogOptions[] = [];
  const unregister = registerDesktopIpc(ipcMain, {
    isTrustedSender: (event) => event.sender.id === 7,
    showOpenDialog: async (options) => {
      asked.push(options);
      return answer;
    },
    grantAccess: (folder) => roots.add(folder),
  });
  const choose = (request: unknown, event: IpcInvokeEvent = trusted) => ipcMain.handlers.get(desktopChannels.chooseFolder)!(event, request) as Promise<Envelope<string | null>>;
  return { ipcMain, roots, asked, unregister, choose };
}

describe('desktop folder picker (IPC)', () => {
  it('registers its one channel and removes it when unregistered', () => {
    const { ipcMain, unregister } = wire({ canceled: true, filePaths: [] });
    expect([...ipcMain.handlers.keys()]).toEqual([desktopChannels.chooseFolder]);
    unregister();
    expect(ipcMain.handlers.size).toBe(0);
  });

  it('opens a folder dialog and grants the picked folder to the media protocol', async () => {
    const { roots, asked, choose } = wire({ canceled: false, filePaths: [photos] });
    expect(roots.resolve(join(photos, 'a.jpg'))).toBeNull();
    await expect(choose({ title: 'Folder to caption', defaultPath: dir })).resolves.toEqual({ ok: true, value: photos });
    expect(asked).toEqual([{ title: 'Folder to caption', defaultPath: dir, properties: ['openDirectory', 'createDirectory'] }]);
    expect(roots.resolve(join(photos, 'a.jpg'))).not.toBeNull();
    // Only the chosen folder: its parent stays closed.
    expect(roots.resolve(join(dir, 'outside.jpg'))).toBeNull();
  });

  it('answers null and grants nothing when the user cancels', async () => {
    const { roots, choose } = wire({ canceled: true, filePaths: [] });
    await expect(choose({})).resolves.toEqual({ ok: true, value: null });
    await expect(choose(undefined)).resolves.toEqual({ ok: true, value: null });
    expect(roots.resolve(join(photos, 'a.jpg'))).toBeNull();
  });

  it('refuses other senders without opening a dialog', async () => {
    const { asked, choose } = wire({ canceled: false, filePaths: [photos] });
    const answer = await choose({}, { sender: { id: 99 }, senderFrame: { url: 'https://evil.example/' } });
    expect(answer).toMatchObject({ ok: false, error: { code: 'forbidden' } });
    expect(asked).toHaveLength(0);
  });

  it('validates the request, naming the field, before opening a dialog', async () => {
    const { asked, choose } = wire({ canceled: false, filePaths: [photos] });
    const relative = await choose({ defaultPath: 'photos' });
    expect(relative).toMatchObject({ ok: false, error: { code: 'invalid_request', issues: [{ path: 'defaultPath', message: 'must be an absolute path' }] } });
    const extra = await choose({ title: 'x', properties: ['openFile'] });
    expect(extra).toMatchObject({ ok: false, error: { code: 'invalid_request' } });
    expect(await choose('not an object')).toMatchObject({ ok: false, error: { code: 'invalid_request' } });
    expect(asked).toHaveLength(0);
  });

  it('refuses to grant an answer that is not a folder', async () => {
    const { roots, choose } = wire({ canceled: false, filePaths: [join(dir, 'outside.jpg')] });
    expect(await choose({})).toMatchObject({ ok: false, error: { code: 'not_found' } });
    expect(roots.resolve(join(dir, 'outside.jpg'))).toBeNull();
  });
});

describe('desktop API in the renderer', () => {
  it('opens the dialog where a typed absolute path points, and nowhere in particular otherwise', () => {
    expect(dialogStart(' /data/photos ')).toEqual({ defaultPath: '/data/photos' });
    expect(dialogStart('D:\\photos')).toEqual({ defaultPath: 'D:\\photos' });
    expect(dialogStart('photos')).toEqual({});
    expect(dialogStart('')).toEqual({});
  });

  it('calls its channel and returns the folder, or throws the ApiError the main process answered', async () => {
    const calls: Array<[string, unknown]> = [];
    let answer: Envelope<unknown> = { ok: true, value: '/data/photos' };
    const desktop = buildDesktopApi(async (channel, request) => {
      calls.push([channel, request]);
      return answer;
    });
    await expect(desktop.chooseFolder({ title: 'Pick' })).resolves.toBe('/data/photos');
    await expect(desktop.chooseFolder()).resolves.toBe('/data/photos');
    expect(calls).toEqual([
      [desktopChannels.chooseFolder, { title: 'Pick' }],
      [desktopChannels.chooseFolder, {}],
    ]);
    answer = { ok: false, error: { code: 'forbidden', message: 'This window may not open dialogs.' } };
    const error = await desktop.chooseFolder().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).code).toBe('forbidden');
  });
});

describe('preload', () => {
  it('exposes the contract API and the folder picker as window.api, each on its own channel', async () => {
    await import('../../src/preload/index');
    expect([...preload.exposed.keys()]).toEqual(['api']);
    const api = preload.exposed.get('api') as { transport: string; desktop: { chooseFolder(request?: object): Promise<string | null> }; system: { info(request: object): Promise<unknown> } };
    expect(api.transport).toBe('ipc');
    await expect(api.desktop.chooseFolder({ title: 'Folder to caption' })).resolves.toBe('/picked');
    await expect(api.system.info({})).resolves.toBe('answer');
    expect(preload.invoked).toEqual([
      [desktopChannels.chooseFolder, { title: 'Folder to caption' }],
      ['api:system.info', {}],
    ]);
  });
});
