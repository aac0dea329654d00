#!/usr/bin/env node
// `npm run setup:electron`: prepares the desktop app where the network allows.
// 1. Fetches the Electron binary (electron downloads it lazily on first use).
// 2. Builds better-sqlite3 against Electron's ABI into .native/electron/, so
//    the app's main process loads that copy while Node (CLI, serve mode,
//    tests) keeps the one npm built. Both copies stay valid side by side.
// tfjs-node needs nothing: it is an N-API addon, loadable by Node and Electron.
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { electronNodeMinimum, format, meets } from './lib/node-version.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const target = join(root, '.native', 'electron', 'better_sqlite3.node');
const force = process.argv.includes('--force');

function run(command, args, cwd) {
  const result = spawnSync(command, args, { cwd, stdio: 'inherit', env: process.env });
  if (result.status !== 0) {
    console.error(`\nsetup:electron: \`${command} ${args.join(' ')}\` failed (exit ${result.status}).`);
    console.error('It needs network access to Electron\'s download and headers hosts (electronjs.org, github.com).');
    process.exit(1);
  }
}

const electronVersion = JSON.parse(readFileSync(join(root, 'node_modules', 'electron', 'package.json'), 'utf8')).version;
const electronNode = electronNodeMinimum(root);
if (electronNode && !meets(process.versions.node, electronNode)) {
  console.error(
    `setup:electron: Electron ${electronVersion}'s installer needs Node ${format(electronNode)} or newer; this is Node ${process.versions.node}.\n` +
      'Install a newer Node.js (https://nodejs.org/) for the desktop window; the CLI and `npm run serve` work on this one.',
  );
  process.exit(1);
}

console.log(`Electron ${electronVersion}: fetching its binary if needed…`);
run(process.execPath, [join(root, 'node_modules', 'electron', 'install.js')], root);

if (existsSync(target) && !force) {
  console.log(`better-sqlite3 for Electron is already built: ${target}`);
  process.exit(0);
}

console.log('Building better-sqlite3 for Electron…');
const work = mkdtempSync(join(tmpdir(), 'sqlite-electron-'));
try {
  const source = join(root, 'node_modules', 'better-sqlite3');
  cpSync(source, join(work, 'better-sqlite3'), { recursive: true, filter: (path) => !path.includes(`${join('better-sqlite3', 'build')}`) });
  const nodeGyp = join(root, 'node_modules', 'node-gyp', 'bin', 'node-gyp.js');
  const gyp = existsSync(nodeGyp) ? [process.execPath, nodeGyp] : ['npx', 'node-gyp'];
  run(gyp[0], [...gyp.slice(1), 'rebuild', '--release', `--target=${electronVersion}`, '--runtime=electron', '--dist-url=https://electronjs.org/headers'], join(work, 'better-sqlite3'));
  mkdirSync(dirname(target), { recursive: true });
  cpSync(join(work, 'better-sqlite3', 'build', 'Release', 'better_sqlite3.node'), target);
  console.log(`Built ${target}`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
