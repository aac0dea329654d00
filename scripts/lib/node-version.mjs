// Which Node each part of the workbench needs, read from the packages that
// state it, so the messages never drift from package.json: the app's own
// `engines` (install, build, CLI, serve mode, tests) and Electron's (its
// installer, which downloads the binary for the desktop window).
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** The lowest version a `>=X.Y[.Z]` range allows, as [major, minor, patch]. */
export function minimumOf(range) {
  const match = /^\s*>=\s*(\d+)(?:\.(\d+))?(?:\.(\d+))?\s*$/.exec(range ?? '');
  if (!match) throw new Error(`expected a ">=X.Y" Node range, got "${range}"`);
  return [Number(match[1]), Number(match[2] ?? 0), Number(match[3] ?? 0)];
}

export function meets(version, minimum) {
  const parts = version.replace(/^v/, '').split('.').map(Number);
  for (let i = 0; i < 3; i++) {
    if ((parts[i] ?? 0) !== minimum[i]) return (parts[i] ?? 0) > minimum[i];
  }
  return true;
}

export function format(minimum) {
  return minimum[2] ? minimum.join('.') : `${minimum[0]}.${minimum[1]}`;
}

/** The app's minimum, from package.json "engines.node". */
export function appNodeMinimum(root) {
  return minimumOf(JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).engines.node);
}

/** What Electron's installer needs, from its own package.json (null when electron is not installed). */
export function electronNodeMinimum(root) {
  const manifest = join(root, 'node_modules', 'electron', 'package.json');
  if (!existsSync(manifest)) return null;
  const range = JSON.parse(readFileSync(manifest, 'utf8')).engines?.node;
  return range ? minimumOf(range) : null;
}
