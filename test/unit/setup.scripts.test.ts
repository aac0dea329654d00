/**
 * The set-up scripts' decisions and messages: which native build `npm install`
 * makes, that a TensorFlow download failure never fails the install and says
 * how to retry, that the build copies the declared package with exactly the
 * packages it needs, that a too-old Node is named before anything else runs,
 * and that the end-to-end tests say how to get Chromium when there is none.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const root = join(__dirname, '..', '..');
const scratch = mkdtempSync(join(tmpdir(), 'setup-scripts-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

interface Plan {
  action: 'skip' | 'unsupported' | 'build';
  flavor?: 'cpu' | 'gpu';
  fallback?: 'cpu' | null;
  reason: string;
}
type PlanFn = (input: { env: Record<string, string | undefined>; platform: string; arch: string; gpu: boolean }) => Plan;

async function importScript<T>(relative: string): Promise<T> {
  return (await import(pathToFileURL(join(root, relative)).href)) as T;
}

/** Runs a script with only the given environment on top of PATH and HOME. */
function node(script: string, env: Record<string, string>, cwd = root) {
  const result = spawnSync(process.execPath, [script], {
    cwd,
    encoding: 'utf8',
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
    timeout: 300_000,
  });
  return { code: result.status, out: `${result.stdout}${result.stderr}` };
}

describe('which native TensorFlow build `npm install` makes', () => {
  it('builds for the GPU where one is present, falling back to the CPU, and for the CPU otherwise', async () => {
    const { tensorflowPlan } = await importScript<{ tensorflowPlan: PlanFn }>('scripts/postinstall.mjs');
    expect(tensorflowPlan({ env: {}, platform: 'linux', arch: 'x64', gpu: true })).toMatchObject({ action: 'build', flavor: 'gpu', fallback: 'cpu' });
    expect(tensorflowPlan({ env: {}, platform: 'linux', arch: 'x64', gpu: false })).toMatchObject({ action: 'build', flavor: 'cpu', fallback: null });
    expect(tensorflowPlan({ env: { CAPTIONER_TENSORFLOW: 'cpu' }, platform: 'linux', arch: 'x64', gpu: true })).toMatchObject({ flavor: 'cpu', fallback: null });
    expect(tensorflowPlan({ env: { CAPTIONER_TENSORFLOW: ' GPU ' }, platform: 'linux', arch: 'x64', gpu: false })).toMatchObject({ flavor: 'gpu', fallback: null });
  });

  it('skips when asked, and where no build exists', async () => {
    const { tensorflowPlan } = await importScript<{ tensorflowPlan: PlanFn }>('scripts/postinstall.mjs');
    expect(tensorflowPlan({ env: { CAPTIONER_TENSORFLOW: 'skip' }, platform: 'linux', arch: 'x64', gpu: true }).action).toBe('skip');
    const mac = tensorflowPlan({ env: {}, platform: 'darwin', arch: 'arm64', gpu: false });
    expect(mac.action).toBe('unsupported');
    expect(mac.reason).toContain('darwin-arm64');
  });

  it('names the variable and its values when the setting is not one of them', async () => {
    const { tensorflowPlan } = await importScript<{ tensorflowPlan: PlanFn }>('scripts/postinstall.mjs');
    expect(() => tensorflowPlan({ env: { CAPTIONER_TENSORFLOW: 'fast' }, platform: 'linux', arch: 'x64', gpu: false })).toThrow(
      'CAPTIONER_TENSORFLOW must be one of auto, cpu, gpu, skip (got "fast")',
    );
  });
});

describe('the postinstall step', () => {
  const postinstall = join(root, 'scripts', 'postinstall.mjs');

  it('checks the store and sharp, and skips TensorFlow with CAPTIONER_TENSORFLOW=skip', () => {
    const { code, out } = node(postinstall, { CAPTIONER_TENSORFLOW: 'skip' });
    expect(code, out).toBe(0);
    expect(out).toMatch(/Store +better-sqlite3 [\d.]+ opens a database \(SQLite [\d.]+\)/);
    expect(out).toMatch(/Images +sharp [\d.]+ loads/);
    expect(out).toContain('skipped (CAPTIONER_TENSORFLOW=skip)');
    expect(out).toContain('npm run setup:tensorflow');
  });

  it('fails the install with the reason on a bad CAPTIONER_TENSORFLOW', () => {
    const { code, out } = node(postinstall, { CAPTIONER_TENSORFLOW: 'fast' });
    expect(code).toBe(1);
    expect(out).toContain('npm install failed: CAPTIONER_TENSORFLOW must be one of auto, cpu, gpu, skip (got "fast")');
  });

  it.skipIf(process.platform !== 'linux' || process.arch !== 'x64')(
    "falls back without failing the install when TensorFlow's wheel cannot be downloaded, and says how to retry",
    () => {
      const nativeDir = join(scratch, 'native');
      const { code, out } = node(postinstall, {
        CAPTIONER_TENSORFLOW: 'cpu',
        // An empty build folder and wheel cache, and a package index that refuses connections.
        CAPTIONER_NATIVE_DIR: nativeDir,
        CAPTIONER_TENSORFLOW_CACHE: join(scratch, 'tf-cache'),
        PIP_INDEX_URL: 'http://127.0.0.1:9/simple',
        PIP_CACHE_DIR: join(scratch, 'pip-cache'),
        PIP_CONFIG_FILE: '/dev/null',
        PIP_RETRIES: '0',
        PIP_TIMEOUT: '5',
      });
      expect(code, out).toBe(0);
      expect(out).toContain("NOT BUILT: TensorFlow's wheel could not be downloaded from PyPI");
      expect(out).toContain('Retry when PyPI is reachable: npm run setup:tensorflow');
      expect(out).toContain('[setup:tensorflow] failed:');
      expect(existsSync(join(nativeDir, 'cpu', 'build.json'))).toBe(false);
      expect(out).toMatch(/Ready +in \d+ s/);
    },
  );
});

describe('copying the declared package out of node_modules', () => {
  type Copy = (args: { appRoot: string; name: string; flavorDir: string }) => number;

  function pkg(dir: string, manifest: Record<string, unknown>): void {
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'package.json'), JSON.stringify(manifest));
    writeFileSync(join(dir, 'index.js'), `module.exports = ${JSON.stringify(manifest.version)};`);
  }

  /** node_modules as npm lays it out, with two versions of one package. */
  function fakeApp(): string {
    const app = mkdtempSync(join(scratch, 'app-'));
    const modules = join(app, 'node_modules');
    pkg(join(modules, 'binding'), { name: 'binding', version: '1.0.0', dependencies: { shared: '^1', helper: '^1', '@tensorflow/tfjs': '1.0.0' }, optionalDependencies: { 'other-os': '^1' } });
    pkg(join(modules, 'binding', 'node_modules', 'shared'), { name: 'shared', version: '1.0.0' });
    pkg(join(modules, 'shared'), { name: 'shared', version: '2.0.0' });
    pkg(join(modules, 'helper'), { name: 'helper', version: '1.0.0', dependencies: { shared: '^2' } });
    pkg(join(modules, '@tensorflow', 'tfjs'), { name: '@tensorflow/tfjs', version: '1.0.0', dependencies: { unrelated: '^1' } });
    pkg(join(modules, 'unrelated'), { name: 'unrelated', version: '1.0.0' });
    return app;
  }

  it('copies the package and what it needs at run time, nested as npm nested them, and not the app\'s tfjs', async () => {
    const { copyWithDependencies } = await importScript<{ copyWithDependencies: Copy }>('scripts/tensorflow/package.mjs');
    const app = fakeApp();
    const flavorDir = join(app, 'build');
    expect(copyWithDependencies({ appRoot: app, name: 'binding', flavorDir })).toBe(4);
    const copied = (path: string) => existsSync(join(flavorDir, 'node_modules', path, 'package.json'));
    expect(copied('binding')).toBe(true);
    expect(copied('binding/node_modules/shared')).toBe(true); // 1.0.0, for binding
    expect(copied('shared')).toBe(true); // 2.0.0, for helper
    expect(copied('helper')).toBe(true);
    expect(copied('@tensorflow/tfjs')).toBe(false);
    expect(copied('unrelated')).toBe(false);
    // Node resolves each package in the copy to the version it resolves to in the app.
    const requireIn = (from: string, name: string) =>
      spawnSync(process.execPath, ['-p', `require(require.resolve(${JSON.stringify(name)}, { paths: [${JSON.stringify(from)}] }))`], { encoding: 'utf8' }).stdout.trim();
    expect(requireIn(join(flavorDir, 'node_modules', 'binding'), 'shared')).toBe('1.0.0');
    expect(requireIn(join(flavorDir, 'node_modules', 'helper'), 'shared')).toBe('2.0.0');
  });

  it('names the missing package and who needs it', async () => {
    const { copyWithDependencies } = await importScript<{ copyWithDependencies: Copy }>('scripts/tensorflow/package.mjs');
    const app = fakeApp();
    rmSync(join(app, 'node_modules', 'helper'), { recursive: true });
    expect(() => copyWithDependencies({ appRoot: app, name: 'binding', flavorDir: join(app, 'build') })).toThrow(
      `helper, which binding needs, is not installed under ${join(app, 'node_modules')}; run \`npm install\``,
    );
  });
});

describe('a Node older than package.json allows', () => {
  /** A copy of the given files under a package.json whose engines no Node meets. */
  function withImpossibleEngines(files: string[]): string {
    const dir = mkdtempSync(join(scratch, 'engines-'));
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ engines: { node: '>=99.1' } }));
    for (const file of files) {
      mkdirSync(dirname(join(dir, file)), { recursive: true });
      cpSync(join(root, file), join(dir, file));
    }
    return dir;
  }

  it('is named by `captioner` before it loads anything', () => {
    const dir = withImpossibleEngines(['bin/captioner.cjs']);
    const { code, out } = node(join(dir, 'bin', 'captioner.cjs'), {});
    expect(code).toBe(1);
    expect(out).toBe(`captioner: needs Node 99.1 or newer; this is Node ${process.versions.node}. Install a current Node.js LTS (https://nodejs.org/).\n`);
  });

  it('fails `npm install` with the same message', () => {
    const dir = withImpossibleEngines(['scripts/postinstall.mjs', 'scripts/lib/node-version.mjs']);
    const { code, out } = node(join(dir, 'scripts', 'postinstall.mjs'), {});
    expect(code).toBe(1);
    expect(out).toContain(`npm install failed: Node 99.1 or newer is needed (package.json "engines"); this is Node ${process.versions.node}.`);
  });
});

describe('`npm run test:e2e` without Chromium', () => {
  const script = join(root, 'scripts', 'test-e2e.mjs');
  // No browser on PATH and none downloaded by playwright-core.
  const bare = () => {
    const empty = mkdtempSync(join(scratch, 'bin-'));
    return { PATH: empty, PLAYWRIGHT_BROWSERS_PATH: empty };
  };

  it('says how to get it and does not fail `npm test`', () => {
    const { code, out } = node(script, bare());
    expect(code).toBe(0);
    expect(out).toContain('no Chromium found, so the end-to-end tests (the UI driven in a browser) did NOT run');
    expect(out).toContain('sudo apt-get install chromium');
    expect(out).toContain('npx playwright-core install chromium');
  });

  it('fails under CI', () => {
    const { code, out } = node(script, { ...bare(), CI: 'true' });
    expect(code).toBe(1);
    expect(out).toContain('CI is set, so this fails the run.');
  });

  it('rejects a CHROMIUM_PATH that is not a program', () => {
    const { code, out } = node(script, { CHROMIUM_PATH: join(scratch, 'no-such-browser') });
    expect(code).toBe(1);
    expect(out).toContain(`CHROMIUM_PATH is ${join(scratch, 'no-such-browser')}, which is not an executable file.`);
  });
});
