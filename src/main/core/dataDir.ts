/** Where the workbench keeps its database, checkpoints and caches. */
import { mkdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

/** `--data-dir`, else `CAPTIONER_DATA_DIR`, else the given default (Electron's userData), else `~/.captioner`. */
export function resolveDataDir(explicit?: string | null, fallback?: string): string {
  const chosen = explicit ?? process.env.CAPTIONER_DATA_DIR ?? fallback ?? join(homedir(), '.captioner');
  const dir = resolve(chosen);
  mkdirSync(dir, { recursive: true });
  return dir;
}
