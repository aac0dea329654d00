// Builds tfjs-node (or tfjs-node-gpu) against TensorFlow's own shared
// libraries, inside `.native/<flavor>/`, a folder of its own: `npm install`
// and `npm ci` in the app never touch it. The package itself is the one
// package.json declares, copied out of node_modules (./package.mjs); its own
// install script, which would download libtensorflow 2.9.1 from a host many
// networks cannot reach, never runs (package.json's allowScripts denies it).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileSource, openZip } from './zip.mjs';

export function packageName(flavor) {
  return flavor === 'gpu' ? '@tensorflow/tfjs-node-gpu' : '@tensorflow/tfjs-node';
}

/** The tfjs-node package folder inside a flavor's folder. */
export function packageDir(flavorDir, flavor) {
  return join(flavorDir, 'node_modules', ...packageName(flavor).split('/'));
}

function run(command, args, options, what) {
  const result = spawnSync(command, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], ...options });
  if (result.error) throw new Error(`${what}: ${result.error.message}`);
  if (result.status !== 0) {
    const output = `${result.stdout}\n${result.stderr}`.trim().split('\n').slice(-25).join('\n');
    throw new Error(`${what} failed (exit ${result.status}):\n${output}`);
  }
  return result;
}

async function extractMatching(wheelPath, select, log) {
  const zip = await openZip(fileSource(wheelPath));
  let count = 0;
  for (const entry of zip.entries.values()) {
    // Directories, and any name that could climb out of the destination.
    if (entry.name.endsWith('/') || entry.name.split('/').includes('..')) continue;
    const destination = select(entry.name);
    if (!destination) continue;
    mkdirSync(dirname(destination), { recursive: true });
    await zip.extract(entry, destination);
    count++;
  }
  log(`  ${count} files from ${wheelPath.split('/').pop()}`);
  return count;
}

/**
 * Lays TensorFlow out the way binding.gyp expects: libraries in deps/lib,
 * headers in deps/include. binding.gyp links `-ltensorflow
 * -ltensorflow_framework`; the wheel's libtensorflow_cc.so.2 exports the same
 * TF_* and TFE_* C API, so link-time symlinks point those names at the wheel's
 * files and the binding records their sonames (libtensorflow_cc.so.2,
 * libtensorflow_framework.so.2), found at run time through its rpath
 * $ORIGIN/../../deps/lib.
 *
 * CUDA wheels go to deps/nvidia/<library>/lib: libtensorflow_framework.so.2
 * (which dlopens CUDA) carries the rpath $ORIGIN/../nvidia/<library>/lib, made
 * for the pip layout site-packages/{tensorflow,nvidia}; deps/{lib,nvidia}
 * reproduces it, so the CUDA 12 libraries are found without LD_LIBRARY_PATH.
 */
export async function layOutLibraries({ pkg, wheels, log }) {
  const deps = join(pkg, 'deps');
  rmSync(deps, { recursive: true, force: true });
  const lib = join(deps, 'lib');
  log('Unpacking TensorFlow libraries and headers');
  const libraries = ['libtensorflow_cc.so.2', 'libtensorflow_framework.so.2'];
  await extractMatching(
    wheels.tensorflow,
    (name) => {
      if (name.startsWith('tensorflow/include/')) return join(deps, 'include', name.slice('tensorflow/include/'.length));
      const file = name.slice('tensorflow/'.length);
      return name.startsWith('tensorflow/') && libraries.includes(file) ? join(lib, file) : null;
    },
    log,
  );
  for (const file of libraries) {
    if (!existsSync(join(lib, file))) throw new Error(`${wheels.tensorflow} has no tensorflow/${file}; this TensorFlow version is not usable here`);
  }
  symlinkSync('libtensorflow_cc.so.2', join(lib, 'libtensorflow.so'));
  symlinkSync('libtensorflow_framework.so.2', join(lib, 'libtensorflow_framework.so'));
  for (const wheel of wheels.cuda) {
    await extractMatching(wheel, (name) => (/^nvidia\/[^/]+\/lib\/[^/]+\.so(\.\d+)*$/.test(name) ? join(deps, name) : null), log);
  }
}

/** Node's headers for node-gyp: the system's when installed there (no download), else node-gyp's own cache. */
function nodedirArgs() {
  if (process.env.npm_config_nodedir) return [`--nodedir=${process.env.npm_config_nodedir}`];
  if (existsSync('/usr/include/node/node.h')) return ['--nodedir=/usr'];
  return [];
}

/** Compiles the binding (N-API, so one build serves Node and Electron) and keeps only what runs. */
export function compileBinding({ pkg, log }) {
  log('Compiling the tfjs-node binding (node-pre-gyp, from source)');
  const preGyp = createRequire(join(pkg, 'package.json')).resolve('@mapbox/node-pre-gyp/bin/node-pre-gyp');
  const nodedir = nodedirArgs();
  const env = { ...process.env, JOBS: 'max' };
  if (nodedir.length) env.npm_config_nodedir = nodedir[0].slice('--nodedir='.length);
  run(process.execPath, [preGyp, 'install', '--build-from-source', ...nodedir], { cwd: pkg, env }, 'Building the tfjs-node binding (needs a C++ compiler, make and Python 3)');
  const libDir = join(pkg, 'lib');
  const built = existsSync(libDir) ? readdirSync(libDir).map((d) => join('lib', d, 'tfjs_binding.node')).filter((b) => existsSync(join(pkg, b))) : [];
  if (built.length === 0) throw new Error(`the build produced no tfjs_binding.node under ${join(pkg, 'lib')}`);
  // Headers and link-time names are only needed to compile.
  for (const path of [join(pkg, 'build'), ...readdirSync(pkg).filter((d) => d.startsWith('build-tmp-')).map((d) => join(pkg, d)), join(pkg, 'deps', 'include'), join(pkg, 'deps', 'lib', 'libtensorflow.so'), join(pkg, 'deps', 'lib', 'libtensorflow_framework.so')]) {
    rmSync(path, { recursive: true, force: true });
  }
  return built;
}
