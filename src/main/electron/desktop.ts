/**
 * Desktop-only capabilities over IPC: the native folder picker. Like the
 * API's handlers, each refuses senders other than the workbench's window
 * and validates its request; a folder the user picks is granted to the
 * media protocol (the workbench serves images only from where the user
 * pointed it). Takes Electron-shaped objects so tests can pass fakes.
 */
import { statSync } from 'node:fs';
import { isAbsolute } from 'node:path';
import { z } from 'zod';
import { desktopChannels } from '../../shared/desktop';
import type { Envelope } from '../../shared/errors';
import type { IpcInvokeEvent, IpcMainLike } from './ipc';

/** The part of Electron's `dialog.showOpenDialog` (bound to the window) the picker uses. */
export interface OpenDialogOptions {
  title?: string;
  defaultPath?: string;
  properties: Array<'openDirectory' | 'createDirectory'>;
}

export type ShowOpenDialog = (options: OpenDialogOptions) => Promise<{ canceled: boolean; filePaths: string[] }>;

export interface DesktopOptions {
  /** True only for the workbench window's own web contents and page. */
  isTrustedSender(event: IpcInvokeEvent): boolean;
  showOpenDialog: ShowOpenDialog;
  /** Lets the workbench read and show files under a folder the user chose (MediaRoots.add). */
  grantAccess(folder: string): void;
}

const chooseFolderRequest = z
  .object({
    title: z.string().min(1).max(200).optional(),
    defaultPath: z.string().min(1).max(4096).refine(isAbsolute, 'must be an absolute path').optional(),
  })
  .strict();

function invalid(error: z.ZodError): Envelope<never> {
  return {
    ok: false,
    error: {
      code: 'invalid_request',
      message: 'Invalid request for desktop.chooseFolder.',
      issues: error.issues.map((issue) => ({ path: issue.path.join('.'), message: issue.message })),
    },
  };
}

export function registerDesktopIpc(ipcMain: IpcMainLike, options: DesktopOptions): () => void {
  ipcMain.handle(desktopChannels.chooseFolder, async (event, request): Promise<Envelope<string | null>> => {
    if (!options.isTrustedSender(event)) {
      return { ok: false, error: { code: 'forbidden', message: 'This window may not open dialogs.' } };
    }
    const parsed = chooseFolderRequest.safeParse(request ?? {});
    if (!parsed.success) return invalid(parsed.error);
    const { title, defaultPath } = parsed.data;
    const picked = await options.showOpenDialog({
      ...(title ? { title } : {}),
      ...(defaultPath ? { defaultPath } : {}),
      properties: ['openDirectory', 'createDirectory'],
    });
    const folder = picked.canceled ? undefined : picked.filePaths[0];
    if (folder === undefined) return { ok: true, value: null };
    // The dialog answers folders only; a path that is not one (gone since) is refused rather than granted.
    if (!isAbsolute(folder) || !isFolder(folder)) return { ok: false, error: { code: 'not_found', message: `${folder} is not a folder.` } };
    options.grantAccess(folder);
    return { ok: true, value: folder };
  });
  return () => ipcMain.removeHandler(desktopChannels.chooseFolder);
}

function isFolder(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}
