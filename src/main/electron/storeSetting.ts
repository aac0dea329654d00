/**
 * The desktop app's choice of experiment store: `CAPTIONER_STORE` when set,
 * else the store saved in `settings.json` under the app's user data folder
 * (the System page edits it; it applies at the next start), else the
 * embedded SQLite store. Takes an app-shaped object so tests can pass a fake.
 */
import { join } from 'node:path';
import type { AppSettingsState } from '../api/services';
import { readAppSettings, SETTINGS_FILE_NAME } from '../core/appSettings';
import { resolveStoreChoice, type StoreChoice } from '../store/openStore';

export interface AppPathsLike {
  getPath(name: 'userData'): string;
}

export interface DesktopStore {
  storeChoice: StoreChoice;
  appSettings: AppSettingsState;
}

export function desktopStore(app: AppPathsLike, env: NodeJS.ProcessEnv = process.env): DesktopStore {
  const file = join(app.getPath('userData'), SETTINGS_FILE_NAME);
  let saved: string | null = null;
  let error: string | null = null;
  try {
    saved = readAppSettings(file).store ?? null;
  } catch (reason) {
    // A broken settings file must not keep the app from starting: the System page shows why, and saving replaces it.
    error = (reason as Error).message;
  }
  const storeChoice = resolveStoreChoice(null, env, saved);
  return { storeChoice, appSettings: { file, saved, error, overriddenByEnv: storeChoice.source === 'env' } };
}
