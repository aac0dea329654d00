/** Versions of the libraries the workbench runs on, for `system.info` and bug reports. */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

const LIBRARIES = [
  '@tensorflow/tfjs',
  '@tensorflow/tfjs-node',
  '@tensorflow/tfjs-node-gpu',
  'better-sqlite3',
  'sharp',
  'zod',
  'ws',
] as const;

/** Finds `name`'s package.json by walking up from its entry point (exports maps may hide it). */
export function packageVersion(name: string): string | null {
  let dir: string;
  try {
    dir = dirname(require.resolve(name));
  } catch {
    return null;
  }
  for (let depth = 0; depth < 6; depth++) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === name && pkg.version) return pkg.version;
    } catch {
      // No package.json at this level: keep walking up.
    }
    dir = dirname(dir);
  }
  return null;
}

export function libraryVersions(): Record<string, string> {
  const versions: Record<string, string> = { node: process.versions.node };
  if (process.versions.electron) versions.electron = process.versions.electron;
  if (process.versions.chrome) versions.chrome = process.versions.chrome;
  for (const name of LIBRARIES) {
    const version = packageVersion(name);
    if (version) versions[name] = version;
  }
  return versions;
}

/** The app's own version from the nearest package.json named like ours. */
export function appVersion(): string {
  let dir = __dirname;
  for (let depth = 0; depth < 6; depth++) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'captioning-workbench' && pkg.version) return pkg.version;
    } catch {
      // Keep walking up.
    }
    dir = dirname(dir);
  }
  return '0.0.0';
}
