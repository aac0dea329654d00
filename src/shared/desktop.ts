/**
 * What only the desktop app can do: native dialogs. Exposed by the preload
 * as `window.api.desktop` next to the contract's methods; absent in a
 * browser (serve mode), where paths are typed as paths on the server. The
 * main process checks the sender and validates every request
 * (src/main/electron/desktop.ts).
 */
import { ApiError, type Envelope } from './errors';

/** The one IPC channel per desktop capability. */
export const desktopChannels = {
  chooseFolder: 'desktop:chooseFolder',
} as const;

export interface ChooseFolderRequest {
  /** The dialog's title, e.g. "Folder to caption". */
  title?: string;
  /** An absolute folder the dialog opens in. */
  defaultPath?: string;
}

export interface DesktopApi {
  /**
   * Opens the system's folder picker; answers the chosen folder's absolute
   * path (which the workbench may then read and show images from), or null
   * when the user cancelled.
   */
  chooseFolder(request?: ChooseFolderRequest): Promise<string | null>;
}

/** A typed path the dialog may open in: absolute (POSIX or Windows), else none (the main process refuses relative ones). */
export function dialogStart(typed: string): { defaultPath?: string } {
  const path = typed.trim();
  return path.startsWith('/') || /^[A-Za-z]:[\\/]/.test(path) || path.startsWith('\\\\') ? { defaultPath: path } : {};
}

/** The renderer-side object, from one invoke primitive (the preload passes ipcRenderer.invoke). */
export function buildDesktopApi(invoke: (channel: string, request: unknown) => Promise<Envelope<unknown>>): DesktopApi {
  return {
    async chooseFolder(request = {}) {
      const envelope = await invoke(desktopChannels.chooseFolder, request);
      if (!envelope.ok) throw ApiError.fromData(envelope.error);
      return envelope.value as string | null;
    },
  };
}
