#!/usr/bin/env node
// Runs at the end of `npm install` and `npm ci` (package.json "postinstall").
// 1. Checks that the native modules the app cannot run without load: the
//    store's SQLite (better-sqlite3, built by its approved install script) and
//    sharp (prebuilt per platform). A failure here fails the install, with
//    the reason and the fix.
// 2. Builds the native TensorFlow backend (scripts/setup-tensorflow.mjs): the
//    GPU build where an NVIDIA GPU and driver are present, else the CPU build.
//    This step never fails the install: the workbench runs without it, on
//    WebAssembly, and the message says how to retry. CAPTIONER_TENSORFLOW
//    chooses: auto (default), cpu, gpu, or skip.
import { spawnSync } from 'node:child_process';
import { existsSync, realpathSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { appNodeMinimum, electronNodeMinimum, format, meets } from './lib/node-version.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const appRequire = createRequire(join(root, 'package.json'));
const started = Date.now();

/** setup-tensorflow.mjs exits with this when TensorFlow's wheels could not be downloaded. */
const EXIT_DOWNLOAD_FAILED = 3;
const CHOICES = ['auto', 'cpu', 'gpu', 'skip'];

class InstallError extends Error {}

function say(label, text) {
  console.log(`[captioner] ${label.padEnd(11)} ${text}`);
}

function firstLine(error) {
  return String(error instanceof Error ? error.message : error).split('\n')[0];
}

function checkNode() {
  const minimum = appNodeMinimum(root);
  if (!meets(process.versions.node, minimum)) {
    throw new InstallError(
      `Node ${format(minimum)} or newer is needed (package.json "engines"); this is Node ${process.versions.node}. ` +
        'Install a current Node.js LTS (https://nodejs.org/) and run `npm install` again.',
    );
  }
  say('Node', `${process.versions.node} (the app needs ${format(minimum)} or newer)`);
}

function checkSqlite() {
  const version = appRequire('better-sqlite3/package.json').version;
  try {
    const Database = appRequire('better-sqlite3');
    const db = new Database(':memory:');
    const { sqlite } = db.prepare('select sqlite_version() as sqlite').get();
    db.close();
    say('Store', `better-sqlite3 ${version} opens a database (SQLite ${sqlite})`);
  } catch (error) {
    throw new InstallError(
      `the experiment store's SQLite module, better-sqlite3 ${version}, does not load: ${firstLine(error)}\n` +
        '  Its install script builds it (a prebuilt download, else a compile with node-gyp) and did not run or failed.\n' +
        `  npm 12 runs it only while package.json's "allowScripts" approves better-sqlite3@${version}; after a version change run\n` +
        '  `npm approve-scripts better-sqlite3`. Then run `npm rebuild better-sqlite3` and read its output.',
    );
  }
}

function checkSharp() {
  const version = appRequire('sharp/package.json').version;
  try {
    const sharp = appRequire('sharp');
    say('Images', `sharp ${version} loads (libvips ${sharp.versions.vips})`);
  } catch (error) {
    throw new InstallError(
      `sharp ${version} does not load: ${firstLine(error)}\n` +
        '  sharp runs from a prebuilt package for this platform (@img/sharp-<platform>), which npm installs as an optional dependency;\n' +
        '  its install script only builds from source and is denied in allowScripts. See https://sharp.pixelplumbing.com/install.',
    );
  }
}

function hasNvidiaGpu() {
  return ['/dev/nvidiactl', '/proc/driver/nvidia/version', '/usr/lib/wsl/lib/libcuda.so.1'].some((path) => existsSync(path));
}

/**
 * What to do about native TensorFlow here: `{ action: 'skip' | 'unsupported'
 * | 'build', flavor, fallback, reason }`. Only Linux x86-64 has builds.
 */
export function tensorflowPlan({ env, platform, arch, gpu }) {
  const raw = env.CAPTIONER_TENSORFLOW;
  const choice = (raw ?? 'auto').trim().toLowerCase() || 'auto';
  if (!CHOICES.includes(choice)) {
    throw new InstallError(`CAPTIONER_TENSORFLOW must be one of ${CHOICES.join(', ')} (got "${raw}").`);
  }
  if (choice === 'skip') return { action: 'skip', reason: 'CAPTIONER_TENSORFLOW=skip' };
  if (platform !== 'linux' || arch !== 'x64') {
    return { action: 'unsupported', reason: `native TensorFlow builds exist for Linux x86-64 only (this is ${platform}-${arch})` };
  }
  if (choice === 'auto') {
    return gpu
      ? { action: 'build', flavor: 'gpu', fallback: 'cpu', reason: 'an NVIDIA GPU and its driver are present' }
      : { action: 'build', flavor: 'cpu', fallback: null, reason: 'no NVIDIA GPU is present' };
  }
  return { action: 'build', flavor: choice, fallback: null, reason: `CAPTIONER_TENSORFLOW=${choice}` };
}

function retryCommand(flavor) {
  return flavor === 'gpu' ? 'npm run setup:tensorflow -- --gpu' : 'npm run setup:tensorflow';
}

/** Runs the setup in the foreground (its progress lines are the user's only sign of a minute-long step). */
function buildTensorflow(flavor) {
  const what = flavor === 'gpu' ? 'the GPU build (about 3.4 GB of TensorFlow and CUDA wheels, minutes)' : 'the CPU build (a 275 MB wheel; one to a few minutes)';
  say('TensorFlow', `building ${what}; CAPTIONER_TENSORFLOW=skip skips this`);
  const result = spawnSync(process.execPath, [join(root, 'scripts', 'setup-tensorflow.mjs'), `--${flavor}`], { cwd: root, stdio: 'inherit' });
  return result.status ?? 1;
}

/** Never throws: without native TensorFlow the workbench still runs, slower, and says so. */
function setUpTensorflow() {
  const plan = tensorflowPlan({ env: process.env, platform: process.platform, arch: process.arch, gpu: hasNvidiaGpu() });
  const slower = 'the workbench runs on WebAssembly instead (a training step about 20 times slower)';
  if (plan.action === 'skip') {
    say('TensorFlow', `skipped (${plan.reason}): ${slower}. To build it later: npm run setup:tensorflow`);
    return;
  }
  if (plan.action === 'unsupported') {
    say('TensorFlow', `not built: ${plan.reason}; ${slower}.`);
    return;
  }
  let status = buildTensorflow(plan.flavor);
  if (status === 0) return;
  const failed = plan.flavor;
  if (plan.fallback) {
    say('TensorFlow', `the ${failed.toUpperCase()} build failed (reason above); building the ${plan.fallback.toUpperCase()} build instead`);
    status = buildTensorflow(plan.fallback);
    if (status === 0) {
      say('TensorFlow', `runs on the CPU for now. When the GPU problem above is fixed: ${retryCommand(failed)}`);
      return;
    }
  }
  const why =
    status === EXIT_DOWNLOAD_FAILED
      ? "TensorFlow's wheel could not be downloaded from PyPI (pip's error is above)"
      : 'the native TensorFlow build failed (the reason is above)';
  console.log('');
  say('TensorFlow', `NOT BUILT: ${why}.`);
  say('', `The install itself succeeded; ${slower}.`);
  say('', `Retry${status === EXIT_DOWNLOAD_FAILED ? ' when PyPI is reachable' : ''}: ${retryCommand(plan.fallback ?? failed)}`);
  say('', 'or set CAPTIONER_TENSORFLOW=skip to leave it out of `npm install`.');
}

function electronNote() {
  const minimum = electronNodeMinimum(root);
  if (minimum && !meets(process.versions.node, minimum)) {
    say('Electron', `its installer needs Node ${format(minimum)} or newer (this is ${process.versions.node}): \`npm start\` serves the workbench in a browser until then`);
  }
}

async function main() {
  // npm runs the root's install scripts for these too, with nothing installed to check.
  if (process.env.npm_config_package_lock_only === 'true' || process.env.npm_config_dry_run === 'true') return;
  try {
    checkNode();
    checkSqlite();
    checkSharp();
    setUpTensorflow();
    electronNote();
  } catch (error) {
    if (!(error instanceof InstallError)) throw error;
    console.error(`\n[captioner] npm install failed: ${error.message}`);
    process.exit(1);
  }
  say('Ready', `in ${Math.round((Date.now() - started) / 1000)} s. \`npm start\` opens the workbench; \`npm test\` runs the tests.`);
}

// Run as a script (not when a test imports tensorflowPlan).
if (process.argv[1] && realpathSync(process.argv[1]) === fileURLToPath(import.meta.url)) await main();
