/**
 * The desktop app: one hardened window, the media protocol, IPC (the API
 * and the native folder picker), and the engine as a utilityProcess. Everything else is the shared workbench.
 */
import { app, BrowserWindow, dialog, ipcMain, protocol, session, shell, utilityProcess } from 'electron';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { CONTENT_SECURITY_POLICY } from '../../shared/csp';
import { readMedia } from '../core/media';
import { appRoot, engineEntry } from '../core/paths';
import { createWorkbench, type Workbench } from '../workbench';
import { registerDesktopIpc } from './desktop';
import { registerIpc, type IpcInvokeEvent } from './ipc';
import { desktopStore } from './storeSetting';
import { isAllowedNavigation, MEDIA_SCHEME, parseMediaUrl, secureWebPreferences } from './security';
import { utilitySpawner } from './utilityChannel';

protocol.registerSchemesAsPrivileged([
  { scheme: MEDIA_SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true, stream: true } },
]);

let workbench: Workbench | null = null;
let mainWindow: BrowserWindow | null = null;

function appUrl(): string {
  const devServer = process.env.ELECTRON_RENDERER_URL;
  return devServer ?? pathToFileURL(join(appRoot(), 'out/renderer/index.html')).toString();
}

function createWindow(): BrowserWindow {
  const window = new BrowserWindow({
    width: 1400,
    height: 900,
    minWidth: 960,
    minHeight: 600,
    show: false,
    title: 'Captioning Workbench',
    backgroundColor: '#0f1115',
    webPreferences: secureWebPreferences(join(appRoot(), 'out/preload/index.js')),
  });
  const url = appUrl();
  window.webContents.on('will-navigate', (event, target) => {
    if (!isAllowedNavigation(target, url)) event.preventDefault();
  });
  window.webContents.setWindowOpenHandler(({ url: target }) => {
    // External links open in the system browser, never inside the app.
    if (target.startsWith('https://')) void shell.openExternal(target);
    return { action: 'deny' };
  });
  window.once('ready-to-show', () => window.show());
  void window.loadURL(url);
  return window;
}

async function start(): Promise<void> {
  await app.whenReady();
  const current = createWorkbench({
    defaultDataDir: join(app.getPath('userData'), 'workbench'),
    ...desktopStore(app),
    spawnEngine: utilitySpawner(() =>
      utilityProcess.fork(engineEntry('engine').entry, [], { serviceName: 'Captioning engine', stdio: 'inherit' }),
    ),
    spawnDatasets: utilitySpawner(() =>
      utilityProcess.fork(engineEntry('datasets').entry, [], { serviceName: 'Captioning datasets', stdio: 'inherit' }),
    ),
  });
  workbench = current;
  const thumbCache = join(current.services.dataDir, 'cache', 'thumbnails');

  session.defaultSession.webRequest.onHeadersReceived((details, callback) => {
    callback({ responseHeaders: { ...details.responseHeaders, 'Content-Security-Policy': [CONTENT_SECURITY_POLICY] } });
  });
  session.defaultSession.setPermissionRequestHandler((_contents, _permission, callback) => callback(false));

  protocol.handle(MEDIA_SCHEME, async (request) => {
    const parsed = parseMediaUrl(request.url);
    if (!parsed) return new Response('Bad media URL.', { status: 400 });
    const result = await readMedia(current.services.mediaRoots, thumbCache, parsed.path, parsed.thumb);
    if (!result.ok) return new Response(result.message, { status: result.status });
    return new Response(new Uint8Array(result.body), { headers: { 'Content-Type': result.contentType } });
  });

  mainWindow = createWindow();
  const isTrustedSender = (event: IpcInvokeEvent) =>
    mainWindow !== null && event.sender.id === mainWindow.webContents.id && isAllowedNavigation(event.senderFrame?.url ?? '', appUrl());
  registerIpc(ipcMain, {
    handlers: current.handlers,
    bus: current.services.bus,
    isTrustedSender,
    eventTarget: () => mainWindow?.webContents ?? null,
  });
  registerDesktopIpc(ipcMain, {
    isTrustedSender,
    // Modal to the workbench window, so the dialog cannot end up behind it.
    showOpenDialog: (options) => (mainWindow ? dialog.showOpenDialog(mainWindow, options) : dialog.showOpenDialog(options)),
    grantAccess: (folder) => current.services.mediaRoots.add(folder),
  });
  void current.services.engine.start().catch((error: unknown) => {
    current.services.logger.error(`Engine failed to start: ${(error as Error).message}`);
  });

  app.on('activate', () => {
    if (BrowserWindow.getAllWindows().length === 0) mainWindow = createWindow();
  });
}

app.on('window-all-closed', () => {
  if (process.platform !== 'darwin') app.quit();
});

app.on('will-quit', (event) => {
  const closing = workbench;
  if (!closing) return;
  event.preventDefault();
  workbench = null;
  void closing.close().finally(() => app.quit());
});

start().catch((error: unknown) => {
  // E.g. a database written by a newer workbench: say so in a window, not only on stderr.
  const message = error instanceof Error ? error.message : String(error);
  process.stderr.write(`The workbench failed to start: ${(error as Error).stack ?? message}\n`);
  dialog.showErrorBox('The workbench cannot start', message);
  app.exit(1);
});
