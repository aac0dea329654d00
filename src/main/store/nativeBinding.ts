/**
 * Which better-sqlite3 binary to load. Node (CLI, serve mode, tests) uses the
 * one npm built; Electron's main process has another ABI and loads the copy
 * `npm run setup:electron` builds into .native/electron/.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { appRoot } from '../core/paths';

export function sqliteNativeBinding(versions: NodeJS.ProcessVersions = process.versions): string | undefined {
  if (!versions.electron) return undefined;
  const built = join(appRoot(), '.native', 'electron', 'better_sqlite3.node');
  return existsSync(built) ? built : undefined;
}
