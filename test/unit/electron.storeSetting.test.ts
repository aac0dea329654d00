/**
 * The desktop app's store setting: where the app reads it (a fake Electron
 * app gives the user data folder), what wins over it, a broken settings
 * file, and saving it through the API (`store.configure`), validated, with
 * the password never shown back.
 */
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { dispatch } from '../../src/main/api/handlers';
import { storeInfo } from '../../src/main/api/store';
import { readAppSettings, saveStoreSetting } from '../../src/main/core/appSettings';
import { desktopStore } from '../../src/main/electron/storeSetting';
import { createWorkbench, type Workbench } from '../../src/main/workbench';
import type { MethodName, RequestOf, ResponseOf } from '../../src/shared/contract';
import { ApiError } from '../../src/shared/errors';
import { fakeSpawner } from '../helpers/fakeEngine';
import { tempDataDir } from '../helpers/storeFixtures';

let userData: ReturnType<typeof tempDataDir>;
const fakeApp = () => ({ getPath: (name: 'userData') => (name === 'userData' ? userData.dir : '/nowhere') });
const settingsFile = () => join(userData.dir, 'settings.json');

beforeEach(() => {
  userData = tempDataDir('user-data-');
});
afterEach(() => userData.remove());

describe('the desktop app’s store choice', () => {
  it('opens the embedded SQLite store when nothing is saved', () => {
    expect(desktopStore(fakeApp(), {})).toEqual({
      storeChoice: { spec: { kind: 'sqlite' }, source: 'default' },
      appSettings: { file: settingsFile(), saved: null, error: null, overriddenByEnv: false },
    });
  });

  it('opens the saved PostgreSQL store, unless CAPTIONER_STORE says otherwise', () => {
    writeFileSync(settingsFile(), JSON.stringify({ store: 'postgres://lab:secret@db:5432/captioner?schema=lab_a' }));
    expect(desktopStore(fakeApp(), {}).storeChoice).toEqual({
      spec: { kind: 'postgres', url: 'postgres://lab:secret@db:5432/captioner', schema: 'lab_a' },
      source: 'settings',
    });
    const overridden = desktopStore(fakeApp(), { CAPTIONER_STORE: 'sqlite' });
    expect(overridden.storeChoice).toEqual({ spec: { kind: 'sqlite' }, source: 'env' });
    expect(overridden.appSettings).toMatchObject({ saved: 'postgres://lab:secret@db:5432/captioner?schema=lab_a', overriddenByEnv: true });
  });

  it('starts on SQLite with the reason when the settings file is broken, naming the file and field', () => {
    writeFileSync(settingsFile(), JSON.stringify({ store: 'mysql://db/x' }));
    const chosen = desktopStore(fakeApp(), {});
    expect(chosen.storeChoice.source).toBe('default');
    expect(chosen.appSettings.error).toContain(`${settingsFile()}: store`);
    expect(chosen.appSettings.error).toMatch(/not a store/);
    writeFileSync(settingsFile(), '{ "store": ');
    expect(desktopStore(fakeApp(), {}).appSettings.error).toMatch(/settings\.json is not valid JSON/);
    writeFileSync(settingsFile(), JSON.stringify({ store: 42 }));
    expect(desktopStore(fakeApp(), {}).appSettings.error).toMatch(/settings\.json: store must be a string/);
  });

  it('saves atomically, keeps other settings, and forgets the store when set back to sqlite', () => {
    writeFileSync(settingsFile(), JSON.stringify({ theme: 'dark' }));
    expect(saveStoreSetting(settingsFile(), ' postgres://u:p@h/db ')).toEqual({ store: 'postgres://u:p@h/db' });
    expect(JSON.parse(readFileSync(settingsFile(), 'utf8'))).toEqual({ theme: 'dark', store: 'postgres://u:p@h/db' });
    // It holds a password: only the user may read it.
    expect(statSync(settingsFile()).mode & 0o077).toBe(0);
    expect(saveStoreSetting(settingsFile(), 'sqlite')).toEqual({});
    expect(readAppSettings(settingsFile())).toEqual({});
    expect(JSON.parse(readFileSync(settingsFile(), 'utf8'))).toEqual({ theme: 'dark' });
  });
});

describe('store.info', () => {
  it('says when CAPTIONER_STORE wins over the saved setting, which then needs no restart to matter', () => {
    writeFileSync(settingsFile(), JSON.stringify({ store: 'postgres://lab:secret@db:5432/captioner' }));
    const chosen = desktopStore(fakeApp(), { CAPTIONER_STORE: 'postgres://ops:pw@other:5432/x' });
    const owner = { host: 'desk', pid: 1, worker: 'workbench' };
    const info = storeInfo({ ...chosen, tasks: { owner } } as never);
    expect(info).toEqual({
      kind: 'postgres',
      description: 'PostgreSQL postgres://ops:***@other:5432/x',
      shared: true,
      source: 'env',
      self: owner,
      settings: { file: settingsFile(), saved: 'postgres://lab:***@db:5432/captioner', restartNeeded: false, overriddenByEnv: true, error: null },
    });
  });
});

describe('store.configure in the desktop app', () => {
  let data: ReturnType<typeof tempDataDir>;
  let workbench: Workbench;

  beforeEach(() => {
    data = tempDataDir('store-configure-');
    workbench = createWorkbench({
      dataDir: data.dir,
      echoLogs: false,
      ...desktopStore(fakeApp(), {}),
      spawnEngine: fakeSpawner((call, reply) => reply({ type: 'error', id: call.id, error: { code: 'internal', message: 'unused' } })),
    });
  });
  afterEach(async () => {
    await workbench.close();
    data.remove();
  });

  async function call<M extends MethodName>(method: M, request: RequestOf<M>): Promise<ResponseOf<M>> {
    const envelope = await dispatch(workbench.handlers, method, request, { transport: 'ipc' });
    if (!envelope.ok) throw ApiError.fromData(envelope.error);
    return envelope.value as ResponseOf<M>;
  }

  it('saves a PostgreSQL URL for the next start, shows it masked, and goes back to SQLite', async () => {
    const before = await call('store.info', {});
    expect(before).toMatchObject({ kind: 'sqlite', shared: false, source: 'default', settings: { saved: null, restartNeeded: false, overriddenByEnv: false, error: null } });
    const saved = await call('store.configure', { store: 'postgres://lab:hunter2@db.lab:5432/captioner' });
    expect(saved.settings).toMatchObject({ file: settingsFile(), saved: 'postgres://lab:***@db.lab:5432/captioner', restartNeeded: true });
    expect(JSON.stringify(saved)).not.toContain('hunter2');
    // Still the store it opened with, until the app starts again.
    expect(saved).toMatchObject({ kind: 'sqlite', source: 'default' });
    expect(readAppSettings(settingsFile())).toEqual({ store: 'postgres://lab:hunter2@db.lab:5432/captioner' });
    const back = await call('store.configure', { store: 'sqlite' });
    expect(back.settings).toMatchObject({ saved: null, restartNeeded: false });
  });

  it('refuses a URL that is not a store, naming the field, and keeps what was saved', async () => {
    await call('store.configure', { store: 'postgres://u:p@h/db' });
    for (const [value, message] of [
      ['postgres://u:p@h/', /store: the PostgreSQL URL postgres:\/\/u:\*\*\*@h\/ names no database/],
      ['https://example.com/db', /store: "https:\/\/example.com\/db" is not a store/],
      ['postgres://u:p@h/db?schema=a;b', /store: schema "a;b" must be a plain identifier/],
    ] as const) {
      const error = await call('store.configure', { store: value }).catch((e: unknown) => e as ApiError);
      expect(error).toBeInstanceOf(ApiError);
      expect((error as ApiError).code).toBe('invalid_request');
      expect((error as ApiError).message).toMatch(message);
      expect((error as ApiError).issues[0]?.path).toBe('store');
    }
    expect(readAppSettings(settingsFile())).toEqual({ store: 'postgres://u:p@h/db' });
  });
});
