#!/usr/bin/env node
// `npm start`: builds the app if needed and opens the desktop window. Where
// Electron cannot start (no binary and no way to download it, or no display),
// it serves the same workbench in a browser on 127.0.0.1 and says why.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { appNodeMinimum, electronNodeMinimum, format, meets } from './lib/node-version.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const passThrough = process.argv.slice(2);

function newestMtime(dir) {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(path) : statSync(path).mtimeMs);
  }
  return newest;
}

function ensureBuilt() {
  const marker = join(root, 'out', 'main', 'index.js');
  if (existsSync(marker) && statSync(marker).mtimeMs >= newestMtime(join(root, 'src'))) return;
  console.log('Building the workbench…');
  const result = spawnSync(process.execPath, [join(root, 'node_modules', 'electron-vite', 'bin', 'electron-vite.js'), 'build'], {
    cwd: root,
    stdio: 'inherit',
  });
  if (result.status !== 0) process.exit(result.status ?? 1);
}

/** Why Electron cannot open a window here, or null when it can try. */
function electronBlocker() {
  if (process.platform === 'linux' && !process.env.DISPLAY && !process.env.WAYLAND_DISPLAY) {
    return 'there is no display (neither DISPLAY nor WAYLAND_DISPLAY is set)';
  }
  const pathFile = join(root, 'node_modules', 'electron', 'path.txt');
  const binary = existsSync(pathFile)
    ? join(root, 'node_modules', 'electron', 'dist', readFileSync(pathFile, 'utf8'))
    : null;
  if (binary && existsSync(binary)) return sqliteBlocker();
  const electronNode = electronNodeMinimum(root);
  if (electronNode && !meets(process.versions.node, electronNode)) {
    return `the Electron binary is not installed, and Electron's installer needs Node ${format(electronNode)} or newer (this is Node ${process.versions.node}; the CLI and serve mode run on it)`;
  }
  // Electron downloads its binary on first use; try once, quietly.
  const download = spawnSync(process.execPath, [join(root, 'node_modules', 'electron', 'install.js')], {
    cwd: root,
    stdio: 'ignore',
    timeout: 120_000,
  });
  if (download.status !== 0) return "the Electron binary is not installed and could not be downloaded (run 'npm run setup:electron' where the network allows)";
  return sqliteBlocker();
}

/** The app's main process needs better-sqlite3 built for Electron's ABI (see scripts/setup-electron.mjs). */
function sqliteBlocker() {
  if (existsSync(join(root, '.native', 'electron', 'better_sqlite3.node'))) return null;
  const setup = spawnSync(process.execPath, [join(root, 'scripts', 'setup-electron.mjs')], { cwd: root, stdio: 'inherit' });
  return setup.status === 0 ? null : "better-sqlite3 is not built for Electron and could not be built (run 'npm run setup:electron' where the network allows)";
}

function serve(reason) {
  const cli = join(root, 'bin', 'captioner.cjs');
  const child = spawn(process.execPath, [cli, 'serve', '--reason', `Electron cannot start: ${reason}. Serving the workbench in a browser instead.`, ...passThrough], {
    cwd: root,
    stdio: 'inherit',
  });
  child.on('exit', (code) => process.exit(code ?? 0));
  for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
}

const appNode = appNodeMinimum(root);
if (!meets(process.versions.node, appNode)) {
  console.error(`npm start: the workbench needs Node ${format(appNode)} or newer; this is Node ${process.versions.node}. Install a current Node.js LTS (https://nodejs.org/).`);
  process.exit(1);
}
ensureBuilt();
const blocker = electronBlocker();
if (blocker) {
  serve(blocker);
} else {
  const electron = require('electron');
  const startedAt = Date.now();
  const child = spawn(electron, [root, ...passThrough], { cwd: root, stdio: 'inherit' });
  child.on('exit', (code, signal) => {
    // A window that dies at once (missing system libraries, GPU trouble) falls back to the browser.
    if (code !== 0 && Date.now() - startedAt < 5000) serve(`Electron exited at start (${signal ?? `code ${code}`})`);
    else process.exit(code ?? 0);
  });
  for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
}
