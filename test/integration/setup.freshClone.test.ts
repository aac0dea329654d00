/**
 * The README's set-up, replayed as a new user would: a fresh copy of this
 * checkout (its tracked and unignored files, so no node_modules, .native or
 * caches), `npm install` and `npm start` run by npm 12 (`npx npm@12`). Then
 * the experiment store opens, the backend is native TensorFlow, the lock file
 * is unchanged (so `npm ci` installs exactly what was tested), and no
 * install-scripts warning was printed.
 *
 * Opt-in (minutes, and it needs the npm registry and PyPI): set
 * CAPTIONER_SETUP_TEST=1, as .ci/run does. Each command's time is printed;
 * the README's first screen quotes them.
 */
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SystemInfo } from '../../src/shared/types';

const root = join(__dirname, '..', '..');
const logDir = join(root, 'test-output', 'setup');
const MINUTES = 60_000;

const enabled = process.env.CAPTIONER_SETUP_TEST === '1';
if (!enabled) {
  console.warn(
    '[setup.freshClone.test] skipping the fresh-clone set-up test: it is opt-in (minutes; needs the npm registry and PyPI). ' +
      'Run it with CAPTIONER_SETUP_TEST=1, as .ci/run does.',
  );
}

interface Run {
  code: number | null;
  stdout: string;
  /** stdout and stderr as they came. */
  output: string;
  seconds: number;
}

/**
 * The environment of a new user's shell: nothing inherited from an npm that
 * runs this test, no workbench settings, no display (so `npm start` takes the
 * serve-mode path deterministically). Node's headers come from the system
 * where installed, as in .ci/run, since node-gyp cannot download them here.
 */
function userEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (/^(npm_|CAPTIONER_|VITEST|DISPLAY$|WAYLAND_DISPLAY$|CI$)/i.test(key)) continue;
    env[key] = value;
  }
  const nodedir = process.env.npm_config_nodedir ?? (existsSync('/usr/include/node/node.h') ? '/usr' : undefined);
  if (nodedir) env.npm_config_nodedir = nodedir;
  return env;
}

function run(label: string, command: string, args: string[], cwd: string, timeoutMs: number): Promise<Run> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, env: userEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      output += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      const seconds = Math.round((Date.now() - started) / 1000);
      writeFileSync(join(logDir, `${label}.log`), output);
      console.log(`[setup.freshClone.test] ${label}: ${seconds} s (exit ${code}); output in test-output/setup/${label}.log`);
      resolve({ code, stdout, output, seconds });
    });
  });
}

function tail(text: string, lines = 40): string {
  return text.trim().split('\n').slice(-lines).join('\n');
}

/** A new clone's files: what git tracks plus new files it does not ignore, from the working tree. */
function copyCheckout(to: string): void {
  const listed = spawnSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: root, encoding: 'utf8' });
  if (listed.status !== 0) throw new Error(`git ls-files failed: ${listed.stderr}`);
  for (const file of listed.stdout.split('\0').filter(Boolean)) {
    const source = join(root, file);
    if (!existsSync(source)) continue; // deleted in the working tree
    mkdirSync(dirname(join(to, file)), { recursive: true });
    copyFileSync(source, join(to, file));
  }
}

describe.skipIf(!enabled).sequential('the README set-up on a fresh clone, with npm 12', () => {
  let clone = '';
  let dataDir = '';
  let lockBefore = '';
  let install: Run;

  beforeAll(() => {
    mkdirSync(logDir, { recursive: true });
    clone = mkdtempSync(join(tmpdir(), 'captioner-fresh-'));
    dataDir = join(clone, 'data');
    copyCheckout(clone);
    lockBefore = readFileSync(join(clone, 'package-lock.json'), 'utf8');
  });

  // Over a gigabyte of node_modules and .native: removed without blocking the worker's event loop.
  afterAll(async () => {
    if (clone) await rm(clone, { recursive: true, force: true });
  }, 10 * MINUTES);

  it('runs npm 12', async () => {
    const version = await run('npm-version', 'npx', ['-y', 'npm@12', '--version'], clone, 5 * MINUTES);
    expect(version.code, tail(version.output)).toBe(0);
    expect(version.stdout.trim()).toMatch(/^12\./);
  }, 6 * MINUTES);

  it('`npm install` installs, builds the native backend, and warns about no install scripts', async () => {
    install = await run('npm-install', 'npx', ['-y', 'npm@12', 'install', '--no-audit', '--no-fund'], clone, 40 * MINUTES);
    expect(install.code, tail(install.output)).toBe(0);
    // npm 12 blocks and lists any dependency install script allowScripts does not cover.
    expect(install.output).not.toMatch(/install-scripts|allow-scripts/);
    expect(install.output).toMatch(/\[captioner\] Store +better-sqlite3 [\d.]+ opens a database/);
    expect(install.output).toMatch(/Done in \d+ s: TensorFlow [\d.]+ \(@tensorflow\/tfjs-node(-gpu)?\) runs on the (CPU|GPU)/);
    expect(install.output).not.toMatch(/NOT BUILT/);
    expect(existsSync(join(clone, '.native'))).toBe(true);
    // The declared packages' own download scripts never ran: no libtensorflow 2.9.1 in node_modules.
    expect(existsSync(join(clone, 'node_modules', '@tensorflow', 'tfjs-node', 'deps'))).toBe(false);
  }, 41 * MINUTES);

  it('leaves the lock file as committed, so `npm ci` installs what was tested', () => {
    expect(install?.code).toBe(0);
    expect(readFileSync(join(clone, 'package-lock.json'), 'utf8') === lockBefore, 'npm install rewrote package-lock.json').toBe(true);
  });

  it('`npm start` serves the workbench where Electron cannot start', async () => {
    expect(install?.code).toBe(0);
    const started = Date.now();
    const child = spawn('npx', ['-y', 'npm@12', 'start', '--', '--port', '0', '--data-dir', dataDir], {
      cwd: clone,
      env: userEnv(),
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true, // its own process group: npm, start.mjs and the server stop together
    });
    let output = '';
    try {
      const url = await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no URL after 15 minutes:\n${tail(output)}`)), 15 * MINUTES);
        const onData = (chunk: Buffer) => {
          output += chunk.toString();
          const match = /Workbench serving at (\S+)/.exec(output);
          if (match?.[1]) {
            clearTimeout(timer);
            resolve(match[1]);
          }
        };
        child.stdout.on('data', onData);
        child.stderr.on('data', onData);
        child.on('exit', (code) => reject(new Error(`npm start exited (${code}) before serving:\n${tail(output)}`)));
      });
      console.log(`[setup.freshClone.test] npm start: serving after ${Math.round((Date.now() - started) / 1000)} s (build included)`);
      expect(output).toMatch(/Electron cannot start: there is no display/);
      const page = await fetch(url);
      expect(page.status).toBe(200);
      expect(await page.text()).toMatch(/<html/i);
    } finally {
      writeFileSync(join(logDir, 'npm-start.log'), output);
      if (child.pid) {
        try {
          process.kill(-child.pid, 'SIGINT');
        } catch {
          // Already gone.
        }
      }
      await new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        const kill = setTimeout(() => child.pid && process.kill(-child.pid, 'SIGKILL'), 15_000);
        child.on('exit', () => {
          clearTimeout(kill);
          resolve();
        });
      });
    }
  }, 16 * MINUTES);

  it('the store opens and the backend is native TensorFlow', async () => {
    expect(install?.code).toBe(0);
    const cli = join(clone, 'bin', 'captioner.cjs');
    const runs = await run('runs-list', process.execPath, [cli, 'runs', 'list', '--json', '--data-dir', dataDir], clone, 5 * MINUTES);
    expect(runs.code, tail(runs.output)).toBe(0);
    expect(runs.stdout.trim()).toBe(''); // one JSON line per run, and a new store has none
    expect(existsSync(join(dataDir, 'workbench.db'))).toBe(true);

    const doctor = await run('doctor', process.execPath, [cli, 'doctor', '--json', '--data-dir', dataDir], clone, 5 * MINUTES);
    expect(doctor.code, tail(doctor.output)).toBe(0);
    const info = JSON.parse(doctor.stdout) as SystemInfo;
    expect(info.backend.name, info.backend.reason).toBe('tensorflow');
    expect(info.backend.libraryPath).toContain(join(clone, '.native'));
  }, 11 * MINUTES);
});
