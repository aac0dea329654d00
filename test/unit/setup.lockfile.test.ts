/**
 * What `npm install` and `npm ci` rely on in package.json, package-lock.json
 * and .npmrc: allowScripts covers exactly the locked packages that have
 * install scripts (npm 12 blocks any other), pinned approvals name the locked
 * version, the native TensorFlow packages are declared exactly and denied
 * their download script, and the lock file holds every platform's optional
 * packages and the URLs that pinned approvals are checked against.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(__dirname, '..', '..');

interface LockEntry {
  name?: string;
  version?: string;
  resolved?: string;
  integrity?: string;
  link?: boolean;
  hasInstallScript?: boolean;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
}

const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
  engines: Record<string, string>;
  dependencies: Record<string, string>;
  optionalDependencies: Record<string, string>;
  allowScripts: Record<string, boolean>;
};
const lock = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8')) as { packages: Record<string, LockEntry> };
const entries = Object.entries(lock.packages).filter(([path]) => path !== '');

function packageName(path: string, entry: LockEntry): string {
  return entry.name ?? path.slice(path.lastIndexOf('node_modules/') + 'node_modules/'.length);
}

/** allowScripts keys: `name` or `name@1.2.3` (a scoped name keeps its leading @). */
function parseKey(key: string): { name: string; version: string | null } {
  const at = key.indexOf('@', 1);
  return at < 0 ? { name: key, version: null } : { name: key.slice(0, at), version: key.slice(at + 1) };
}

/** The lock path Node would load `name` from when required inside `from` (a lock path). */
function resolveInLock(from: string, name: string): string | null {
  let dir = from;
  for (;;) {
    const candidate = `${dir ? `${dir}/` : ''}node_modules/${name}`;
    if (lock.packages[candidate]) return candidate;
    if (!dir) return null;
    const up = dir.lastIndexOf('/node_modules/');
    dir = up < 0 ? '' : dir.slice(0, up);
  }
}

const withScripts = entries.filter(([, entry]) => entry.hasInstallScript);

describe('allowScripts', () => {
  it('has an entry for every locked package with install scripts', () => {
    const uncovered = withScripts
      .map(([path, entry]) => `${packageName(path, entry)}@${entry.version}`)
      .filter((id) => {
        const { name, version } = parseKey(id);
        return !Object.keys(manifest.allowScripts).some((key) => {
          const entry = parseKey(key);
          return entry.name === name && (entry.version === null || entry.version.split('||').map((v) => v.trim()).includes(version ?? ''));
        });
      });
    expect(uncovered, 'run `npm approve-scripts` or `npm deny-scripts` for these').toEqual([]);
  });

  it('has no entry for a package that is not locked with install scripts', () => {
    const names = new Set(withScripts.map(([path, entry]) => packageName(path, entry)));
    expect(Object.keys(manifest.allowScripts).filter((key) => !names.has(parseKey(key).name))).toEqual([]);
  });

  it('pins every approval to the locked version, and denies by name', () => {
    for (const [key, allowed] of Object.entries(manifest.allowScripts)) {
      const { name, version } = parseKey(key);
      if (!allowed) {
        expect(version, `${key}: a denial is name-only (npm writes denials that way)`).toBeNull();
        continue;
      }
      expect(version, `${key}: approvals are pinned`).not.toBeNull();
      const locked = withScripts.filter(([path, entry]) => packageName(path, entry) === name).map(([, entry]) => entry.version);
      expect(locked, `${key} is not the locked version`).toContain(version);
    }
  });

  it("approves better-sqlite3 (the store's SQLite is built by its install script) and denies tfjs-node's download", () => {
    expect(manifest.allowScripts[`better-sqlite3@${lock.packages['node_modules/better-sqlite3']?.version}`]).toBe(true);
    expect(manifest.allowScripts['@tensorflow/tfjs-node']).toBe(false);
    expect(manifest.allowScripts['@tensorflow/tfjs-node-gpu']).toBe(false);
  });
});

describe('the native TensorFlow packages', () => {
  it('are declared with the exact version of the app\'s @tensorflow/tfjs and locked at it', () => {
    const tfjs = manifest.dependencies['@tensorflow/tfjs'];
    expect(tfjs).toMatch(/^\d+\.\d+\.\d+$/);
    for (const name of ['@tensorflow/tfjs-node', '@tensorflow/tfjs-node-gpu']) {
      expect(manifest.optionalDependencies[name], name).toBe(tfjs);
      expect(lock.packages[`node_modules/${name}`]?.version, name).toBe(tfjs);
    }
    expect(lock.packages['node_modules/@tensorflow/tfjs']?.version).toBe(tfjs);
  });
});

describe('package-lock.json', () => {
  it("holds every platform's optional packages, so `npm ci` accepts it on any machine", () => {
    const missing: string[] = [];
    for (const [path, entry] of entries) {
      for (const name of Object.keys(entry.optionalDependencies ?? {})) {
        if (!resolveInLock(path, name)) missing.push(`${name} (optional dependency of ${path})`);
      }
    }
    expect(missing).toEqual([]);
  });

  it('resolves every dependency of every locked package', () => {
    const missing: string[] = [];
    for (const [path, entry] of entries) {
      for (const name of Object.keys(entry.dependencies ?? {})) {
        if (!resolveInLock(path, name)) missing.push(`${name} (dependency of ${path})`);
      }
    }
    expect(missing).toEqual([]);
  });

  it('records the registry URL and hash of every package (pinned approvals are checked against the URL)', () => {
    const bare = entries.filter(([, entry]) => !entry.link && (!entry.resolved?.startsWith('https://registry.npmjs.org/') || !entry.integrity));
    expect(bare.map(([path]) => path)).toEqual([]);
  });

  it('stays that way: .npmrc keeps npm from dropping the URLs when it rewrites the lock', () => {
    const npmrc = readFileSync(join(root, '.npmrc'), 'utf8');
    expect(npmrc).toMatch(/^omit-lockfile-registry-resolved\s*=\s*false$/m);
  });
});

describe('engines', () => {
  it('names the Node the app needs and the npm whose allowScripts it relies on', () => {
    expect(manifest.engines.node).toMatch(/^>=\d+\.\d+$/);
    expect(manifest.engines.npm).toMatch(/^>=(1[1-9]|[2-9]\d)\.\d+$/);
  });
});
