/**
 * The desktop app's settings file (`settings.json` in Electron's user data
 * folder): today only which experiment store the app opens. It is read once
 * at start, so a change applies when the app starts again. Plain Node: the
 * Electron side only says where the file lives.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { ApiError } from '../../shared/errors';
import { parseStoreSpec } from '../store/openStore';

export const SETTINGS_FILE_NAME = 'settings.json';

export interface AppSettings {
  /** `sqlite` or a postgres:// URL; absent: the embedded SQLite store. */
  store?: string;
}

function settingsError(file: string, field: string, message: string): ApiError {
  return new ApiError('invalid_request', `${file}: ${field} ${message}`, [{ path: field, message }]);
}

/** The saved settings; `{}` when the file does not exist. Throws naming the file and field when it is unreadable. */
export function readAppSettings(file: string): AppSettings {
  if (!existsSync(file)) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new ApiError('invalid_request', `${file} is not valid JSON: ${(error as Error).message}`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw settingsError(file, '(top level)', 'must be a JSON object.');
  const { store } = parsed as Record<string, unknown>;
  if (store === undefined) return {};
  if (typeof store !== 'string') throw settingsError(file, 'store', 'must be a string: "sqlite" or a postgres:// URL.');
  // The same check as --store, so a bad saved value is named before anything opens it.
  checkStoreValue(store, `${file}: store`);
  return { store };
}

/**
 * Validates a store value as the UI sends it (`field` names it in errors):
 * `sqlite` or a complete postgres:// URL.
 */
export function checkStoreValue(value: string, field = 'store'): void {
  try {
    parseStoreSpec(value, field);
  } catch (error) {
    const message = (error as Error).message;
    // The message already starts with the field; the issue says what is wrong with it.
    throw new ApiError('invalid_request', message, [{ path: 'store', message: message.startsWith(`${field}: `) ? message.slice(field.length + 2) : message }]);
  }
}

/** Saves `store` (validated; `sqlite` or empty goes back to the default), keeping other settings. Written atomically. */
export function saveStoreSetting(file: string, store: string): AppSettings {
  const value = store.trim();
  checkStoreValue(value);
  let current: Record<string, unknown> = {};
  try {
    current = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>) : {};
    if (current === null || typeof current !== 'object' || Array.isArray(current)) current = {};
  } catch {
    // An unreadable file is replaced by a valid one.
    current = {};
  }
  const next: Record<string, unknown> = { ...current };
  if (value === '' || value === 'sqlite') delete next.store;
  else next.store = value;
  mkdirSync(dirname(file), { recursive: true });
  const temporary = `${file}.${process.pid}.tmp`;
  writeFileSync(temporary, `${JSON.stringify(next, null, 2)}\n`, { mode: 0o600 });
  renameSync(temporary, file);
  return next.store === undefined ? {} : { store: next.store as string };
}
