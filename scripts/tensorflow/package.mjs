// The tfjs-node package a native build starts from: the one package.json
// declares (optionalDependencies, exact version, locked in package-lock.json)
// and npm installed into node_modules without running its install script
// (allowScripts denies it: it would download libtensorflow 2.9.1). The build
// copies that package, with the packages it needs at run time, into
// `.native/<flavor>/`, keeping the node_modules layout npm chose, so the build
// folder is self-contained (a packaged app ships it as it is) and `npm ci`,
// which deletes node_modules, never deletes a build.
import { cpSync, existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';

/**
 * Packages the build never copies: tfjs-node must use the app's own
 * @tensorflow/tfjs and tfjs-core (one tfjs-core at run time). Inside the
 * checkout Node's lookup walks up to the app's copies; a packaged app's loader
 * routes these two names explicitly (src/main/ml/backend/native.ts).
 */
const SHARED_WITH_APP = /^@tensorflow\/tfjs(?:-core)?$/;

function readManifest(dir) {
  return JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
}

/**
 * Where Node would find `name` when required from inside `fromDir`: the
 * nearest `node_modules/<name>` walking up, never above `appRoot`.
 */
export function resolvePackageDir(appRoot, fromDir, name) {
  for (let dir = fromDir; ; dir = dirname(dir)) {
    if (!dir.endsWith(`${sep}node_modules`)) {
      const candidate = join(dir, 'node_modules', ...name.split('/'));
      if (existsSync(join(candidate, 'package.json'))) return candidate;
    }
    if (dir === appRoot || !dir.startsWith(appRoot + sep)) return null;
  }
}

/**
 * The installed package `name` (from the app's node_modules) and the folders
 * of every package it needs at run time, found the way Node finds them.
 * Optional dependencies that npm skipped on this platform are left out; a
 * missing required one is an error naming who needs it.
 */
export function runtimeClosure(appRoot, name) {
  const root = resolvePackageDir(appRoot, appRoot, name);
  if (!root) return null;
  const dirs = [root];
  const seen = new Set(dirs);
  for (let i = 0; i < dirs.length; i++) {
    const dir = dirs[i];
    const manifest = readManifest(dir);
    const optional = manifest.optionalDependencies ?? {};
    for (const dependency of Object.keys({ ...manifest.dependencies, ...optional })) {
      if (SHARED_WITH_APP.test(dependency)) continue;
      const found = resolvePackageDir(appRoot, dir, dependency);
      if (!found) {
        if (dependency in optional) continue;
        throw new Error(`${dependency}, which ${manifest.name} needs, is not installed under ${join(appRoot, 'node_modules')}; run \`npm install\``);
      }
      if (!seen.has(found)) {
        seen.add(found);
        dirs.push(found);
      }
    }
  }
  return dirs;
}

/**
 * The declared package for a flavor, as installed: `{ dir, version }`, or
 * null when npm did not install it.
 */
export function declaredPackage(appRoot, name) {
  const dir = resolvePackageDir(appRoot, appRoot, name);
  return dir ? { dir, version: readManifest(dir).version } : null;
}

/**
 * Copies `name` and its run-time dependencies from the app's node_modules into
 * `flavorDir`, each at the same relative place (node_modules/a/node_modules/b
 * stays nested under a), so Node resolves every require inside the copy to
 * the same version it would in the app. Returns the number of packages.
 */
export function copyWithDependencies({ appRoot, name, flavorDir }) {
  const dirs = runtimeClosure(appRoot, name);
  if (!dirs) throw new Error(`${name} is not installed under ${join(appRoot, 'node_modules')}; run \`npm install\``);
  for (const dir of dirs) {
    const nested = join(dir, 'node_modules');
    // A package's own node_modules holds other packages: those in the closure are copied on their own.
    cpSync(dir, join(flavorDir, relative(appRoot, dir)), { recursive: true, filter: (path) => path !== nested });
  }
  return dirs.length;
}
