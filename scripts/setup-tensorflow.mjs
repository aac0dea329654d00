#!/usr/bin/env node
// `npm run setup:tensorflow [-- --cpu | --gpu | --auto] [--tf-version X] [--force] [--dry-run]`
//
// Builds the native TensorFlow backend for tfjs: the tfjs-node (or
// tfjs-node-gpu) package that package.json declares, compiled against the
// shared libraries inside TensorFlow's pip wheel, in .native/<cpu|gpu>/. The
// wheel comes from PyPI and is only unpacked (no Python at run time); it is
// cached in .cache/tensorflow/. `npm install` runs this (scripts/postinstall.mjs);
// running it again when the build is present and loads does nothing.
// CAPTIONER_NATIVE_DIR and CAPTIONER_TENSORFLOW_CACHE move the build and the
// wheel cache elsewhere. See docs/native-backend.md.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compileBinding, layOutLibraries, packageDir, packageName } from './tensorflow/build.mjs';
import { copyWithDependencies, declaredPackage } from './tensorflow/package.mjs';
import {
  cachedWheel,
  cudaRequirements,
  fetchWheels,
  findPython,
  remoteMetadata,
  resolveWheel,
  tensorflowPackage,
  wheelMetadata,
} from './tensorflow/wheels.mjs';

/**
 * The newest TensorFlow whose C API still has every TF_* and TFE_* function
 * tfjs-node 4.22's binding calls, and which passes the smoke test and the
 * workbench's tests (docs/native-backend.md records the check).
 */
const DEFAULT_TF_VERSION = '2.21.0';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
// The loader looks in CAPTIONER_NATIVE_DIR first (src/main/ml/backend/nativeBuilds.ts), so a build made there is found.
const nativeDir = process.env.CAPTIONER_NATIVE_DIR ? resolve(process.env.CAPTIONER_NATIVE_DIR) : join(root, '.native');
const cacheDir = process.env.CAPTIONER_TENSORFLOW_CACHE ? resolve(process.env.CAPTIONER_TENSORFLOW_CACHE) : join(root, '.cache', 'tensorflow');
const started = Date.now();

/** Exit status when TensorFlow's wheels could not be downloaded (the network, PyPI or pip), so callers can say so. */
const EXIT_DOWNLOAD_FAILED = 3;

class SetupError extends Error {}
class DownloadError extends SetupError {}

/** Progress lines carry the seconds since start, so slow steps are visible in CI logs. */
function log(message) {
  console.log(`[setup:tensorflow +${Math.round((Date.now() - started) / 1000)}s] ${message}`);
}

const USAGE = `Usage: npm run setup:tensorflow [-- [--cpu | --gpu | --auto] [--tf-version X.Y.Z] [--force] [--dry-run]]

  --cpu            build tfjs-node against tensorflow-cpu (default)
  --gpu            build tfjs-node-gpu against tensorflow and NVIDIA's CUDA 12 wheels
  --auto           --gpu where an NVIDIA GPU and its driver are present, else --cpu
  --tf-version X   TensorFlow version to take the libraries from (default ${DEFAULT_TF_VERSION})
  --force          rebuild even when a working build is present
  --dry-run        list what would be downloaded and where it would go; change nothing`;

function parseArgs(argv) {
  const options = { flavor: 'cpu', version: DEFAULT_TF_VERSION, force: false, dryRun: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--cpu' || arg === '--gpu') options.flavor = arg.slice(2);
    else if (arg === '--auto') options.flavor = hasNvidiaGpu() ? 'gpu' : 'cpu';
    else if (arg === '--force') options.force = true;
    else if (arg === '--dry-run') options.dryRun = true;
    else if (arg === '--tf-version' || arg.startsWith('--tf-version=')) {
      const value = arg.includes('=') ? arg.split('=')[1] : argv[++i];
      if (!value || !/^\d+\.\d+\.\d+[\w.]*$/.test(value)) throw new SetupError(`--tf-version needs a version like ${DEFAULT_TF_VERSION} (got "${value ?? ''}")`);
      options.version = value;
    } else if (arg === '--help' || arg === '-h') {
      console.log(USAGE);
      process.exit(0);
    } else throw new SetupError(`unknown option "${arg}"\n\n${USAGE}`);
  }
  return options;
}

function checkPlatform() {
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    throw new SetupError(
      `native TensorFlow builds are supported on Linux x86-64 only (this is ${process.platform}-${process.arch}). ` +
        'The workbench runs here on the WebAssembly or pure-JS backend instead; nothing to do.',
    );
  }
}

function appTfjsVersion() {
  const manifest = join(root, 'node_modules', '@tensorflow', 'tfjs', 'package.json');
  if (!existsSync(manifest)) throw new SetupError(`@tensorflow/tfjs is not installed in ${root}; run \`npm install\` first.`);
  return JSON.parse(readFileSync(manifest, 'utf8')).version;
}

/**
 * The tfjs-node package package.json declares for this flavor, as npm
 * installed it. It must match the app's @tensorflow/tfjs exactly: they are
 * released together, and the binding registers its kernels with that tfjs.
 */
function installedPackage(flavor) {
  const name = packageName(flavor);
  const tfjsVersion = appTfjsVersion();
  const declared = declaredPackage(root, name);
  if (!declared) {
    throw new SetupError(
      `${name} is not installed in ${join(root, 'node_modules')}. package.json declares it (optionalDependencies); ` +
        'run `npm install` (npm 11.16 or newer, so that allowScripts keeps its libtensorflow download from running).',
    );
  }
  if (declared.version !== tfjsVersion) {
    throw new SetupError(
      `${name} ${declared.version} is installed, but the app's @tensorflow/tfjs is ${tfjsVersion}; they are released together. ` +
        'Give both the same exact version in package.json and run `npm install`.',
    );
  }
  return declared;
}

/** Compiler and build tools that node-gyp needs, with the command that installs them. */
function checkBuildTools() {
  const missing = ['c++', 'make', 'python3'].filter((tool) => spawnSync(tool, ['--version'], { stdio: 'ignore' }).status !== 0);
  if (missing.length) {
    throw new SetupError(
      `building the binding needs ${missing.join(', ')}, which ${missing.length > 1 ? 'are' : 'is'} not on PATH. ` +
        'Install them (Debian/Ubuntu: `sudo apt-get install build-essential python3`) and run this again.',
    );
  }
}

/** An NVIDIA GPU with its driver loaded (under WSL2, the driver's libcuda that Windows maps in). */
function hasNvidiaGpu() {
  return ['/dev/nvidiactl', '/proc/driver/nvidia/version', '/usr/lib/wsl/lib/libcuda.so.1'].some((path) => existsSync(path));
}

/** Loads a build in a child process; returns check.cjs's report. */
function checkBuild(pkg) {
  const result = spawnSync(process.execPath, [join(root, 'scripts', 'tensorflow', 'check.cjs'), pkg, root], {
    encoding: 'utf8',
    env: { ...process.env, TF_CPP_MIN_LOG_LEVEL: process.env.TF_CPP_MIN_LOG_LEVEL ?? '2' },
  });
  const line = result.stdout.trim().split('\n').pop() ?? '';
  try {
    const report = JSON.parse(line);
    if (!report.ok) report.error += result.stderr.trim() ? `\n${result.stderr.trim().split('\n').slice(-10).join('\n')}` : '';
    return report;
  } catch {
    return { ok: false, error: `the check process exited with ${result.status ?? result.signal}:\n${result.stderr.trim().split('\n').slice(-10).join('\n')}` };
  }
}

function readBuildInfo(flavorDir) {
  try {
    return JSON.parse(readFileSync(join(flavorDir, 'build.json'), 'utf8'));
  } catch {
    return null;
  }
}

function describe(report, flavor) {
  const where = report.gpu ? 'on the GPU' : 'on the CPU';
  const cuda = report.cuda?.length ? `; CUDA libraries: ${report.cuda.map((p) => p.split('/').pop()).join(', ')}` : '';
  return `TensorFlow ${report.tensorflowVersion} (${packageName(flavor)}) runs ${where}${cuda}`;
}

async function dryRun({ flavor, version }) {
  const declared = declaredPackage(root, packageName(flavor));
  const wheelsDir = join(cacheDir, 'wheels');
  log('Dry run: nothing is downloaded, installed or built.');
  log(
    declared
      ? `Package: ${packageName(flavor)}@${declared.version} from ${relative(root, declared.dir)}/ with its run-time dependencies, copied into ${shown(join(nativeDir, flavor))}/`
      : `Package: ${packageName(flavor)} is not installed yet (run \`npm install\`)`,
  );
  const tensorflow = await resolveWheel(`${tensorflowPackage(flavor)}==${version}`);
  const wheels = [tensorflow];
  if (flavor === 'gpu') {
    const local = cachedWheel(wheelsDir, tensorflow.name, version);
    const metadata = local ? await wheelMetadata(local) : await remoteMetadata(tensorflow);
    for (const requirement of cudaRequirements(metadata)) wheels.push({ ...(await resolveWheel(requirement)), requirement });
  }
  let total = 0;
  for (const wheel of wheels) {
    const cached = existsSync(join(wheelsDir, wheel.filename));
    if (!cached) total += wheel.size ?? 0;
    const size = wheel.size ? `${(wheel.size / 1e6).toFixed(1)} MB` : 'size unknown';
    const why = wheel.requirement ? `  (TensorFlow asks for ${wheel.requirement})` : '';
    log(`PyPI: ${wheel.filename}  ${size}  ${cached ? 'cached' : 'to download'}${why}`);
  }
  log(`To download: ${(total / 1e9).toFixed(2)} GB into ${shown(wheelsDir)}/`);
  const pkg = shown(packageDir(join(nativeDir, flavor), flavor));
  log(`Layout: ${pkg}/deps/lib/{libtensorflow_cc.so.2,libtensorflow_framework.so.2}`);
  if (flavor === 'gpu') log(`        ${pkg}/deps/nvidia/<library>/lib/ (found through libtensorflow_framework.so.2's rpath $ORIGIN/../nvidia/<library>/lib)`);
  log(`Binding: ${pkg}/lib/napi-v8/tfjs_binding.node (node-pre-gyp --build-from-source)`);
}

/** A path as the user should read it: relative inside the checkout, absolute outside. */
function shown(path) {
  const rel = relative(root, path);
  return rel.startsWith('..') ? path : rel;
}

async function setup({ flavor, version, force }) {
  const declared = installedPackage(flavor);
  const tfjsVersion = declared.version;
  const flavorDir = join(nativeDir, flavor);
  const pkg = packageDir(flavorDir, flavor);

  const previous = readBuildInfo(flavorDir);
  if (!force && previous?.tensorflowVersion === version && previous.tfjsVersion === tfjsVersion) {
    const report = checkBuild(pkg);
    if (report.ok) {
      log(`Already set up: ${describe(report, flavor)}. Nothing to do (--force rebuilds).`);
      return;
    }
    log(`The existing build does not load (${report.error.split('\n')[0]}); rebuilding.`);
  }

  checkBuildTools();
  let wheels;
  try {
    wheels = await fetchWheels({ python: findPython(), flavor, version, dir: join(cacheDir, 'wheels'), log });
  } catch (error) {
    throw new DownloadError(error instanceof Error ? error.message : String(error));
  }

  // Build next to the live folder and swap only once the result loads, so a
  // failed or interrupted run never breaks a working build.
  const staging = `${flavorDir}.partial`;
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { recursive: true });
  const name = packageName(flavor);
  log(`Copying ${name}@${tfjsVersion} (declared in package.json, installed by npm) with its run-time dependencies`);
  const copied = copyWithDependencies({ appRoot: root, name, flavorDir: staging });
  log(`  ${copied} packages`);
  // Marks the folder as the build's own, outside the app's npm install.
  writeFileSync(join(staging, 'package.json'), `${JSON.stringify({ name: `captioner-native-${flavor}`, private: true, dependencies: { [name]: tfjsVersion } }, null, 2)}\n`);
  const stagedPkg = packageDir(staging, flavor);
  await layOutLibraries({ pkg: stagedPkg, wheels, log });
  const bindings = compileBinding({ pkg: stagedPkg, log });

  log('Checking that the build loads and computes');
  const report = checkBuild(stagedPkg);
  if (!report.ok) {
    throw new SetupError(
      `the build does not load: ${report.error}\n` +
        `Try another version (\`npm run setup:tensorflow -- --${flavor} --tf-version X.Y.Z\`) or --cpu; the failed build is kept in ${shown(staging)}/ for inspection.`,
    );
  }
  if (flavor === 'gpu' && !report.gpu && hasNvidiaGpu()) {
    throw new SetupError(
      'the GPU build loads, but TensorFlow finds no usable GPU although an NVIDIA device is present. ' +
        'Check that `nvidia-smi` works and that the driver supports CUDA 12 (driver 525 or newer); ' +
        `run with TF_CPP_MIN_LOG_LEVEL=0 to see TensorFlow's reason. The build is kept in ${shown(staging)}/.`,
    );
  }

  const info = {
    flavor,
    package: packageName(flavor),
    tfjsVersion,
    tensorflowVersion: version,
    wheel: wheels.tensorflow.split('/').pop(),
    cudaWheels: wheels.cuda.map((w) => w.split('/').pop()),
    bindings,
    builtAt: new Date().toISOString(),
  };
  writeFileSync(join(staging, 'build.json'), `${JSON.stringify(info, null, 2)}\n`);
  rmSync(flavorDir, { recursive: true, force: true });
  renameSync(staging, flavorDir);

  log(`Done in ${Math.round((Date.now() - started) / 1000)} s: ${describe(report, flavor)}.`);
  if (flavor === 'gpu' && !report.gpu) log('No NVIDIA GPU is visible here, so it runs on the CPU until one is.');
  log(`Built in ${shown(flavorDir)}/; the app and \`captioner doctor\` pick it up automatically.`);
}

try {
  const options = parseArgs(process.argv.slice(2));
  checkPlatform();
  await (options.dryRun ? dryRun(options) : setup(options));
} catch (error) {
  const message = error instanceof Error ? error.message : String(error);
  console.error(`[setup:tensorflow] failed: ${message}`);
  // A programming error, not a failed step: the stack is what helps then.
  if (error instanceof TypeError || error instanceof ReferenceError) console.error(error.stack);
  process.exit(error instanceof DownloadError ? EXIT_DOWNLOAD_FAILED : 1);
}
