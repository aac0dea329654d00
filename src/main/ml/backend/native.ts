/**
 * Loads the native TensorFlow backend built by `npm run setup:tensorflow`:
 * tfjs-node-gpu when built and an NVIDIA GPU is present, else tfjs-node on the
 * CPU, else it says why not and which command would enable it. Pure Node: the
 * engine process, the CLI and tests use it; Electron is never imported.
 *
 * A process can hold only one native TensorFlow, so the first successful load
 * is final and later calls return the same answer.
 */
import * as tf from '@tensorflow/tfjs';
import { readFileSync } from 'node:fs';
import Module, { createRequire } from 'node:module';
import { join, sep } from 'node:path';
import type { BackendInfo } from '../../../shared/types';
import {
  cudaLibrariesOf,
  enableCommand,
  findBuilds,
  hasNvidiaGpu,
  nativeRoots,
  nativeSupported,
  SETUP_COMMAND,
  type NativeBuild,
} from './nativeBuilds';

export type NativeLoad = { ok: true; info: BackendInfo } | { ok: false; info: BackendInfo };

/** The parts of tfjs-node's N-API binding this module reads. */
interface TfjsBinding {
  TF_Version: string;
  isUsingGpuDevice(): boolean;
}

/**
 * Backend facts for "no native TensorFlow in this process". The default
 * command builds it; when a build exists and was merely not chosen
 * (CAPTIONER_BACKEND), no command would help.
 */
export function nativeUnavailableInfo(reason: string, command: string | null = defaultEnableCommand()): BackendInfo {
  return {
    name: 'cpu',
    device: 'cpu',
    tensorflowVersion: null,
    libraryPath: null,
    cudaLibraries: [],
    isFastest: false,
    reason: `native TensorFlow is not available: ${reason}`,
    enableCommand: command,
  };
}

function defaultEnableCommand(): string | null {
  const builds = findBuilds();
  return builds.cpu || builds.gpu ? null : enableCommand({ native: null, onGpu: false });
}

let loading: Promise<NativeLoad> | null = null;
/** The tfjs-node package folder that registered the backend (null until one has). */
let loadedPackageDir: string | null = null;

/**
 * Requires a module of the loaded tfjs-node package (e.g. its int64 scalar,
 * which raw TensorFlow ops with int64 inputs need); null when none is loaded.
 */
export function requireFromNativePackage(path: string): unknown {
  return loadedPackageDir === null ? null : createRequire(join(loadedPackageDir, 'package.json'))(path);
}

export function loadNativeBackend(): Promise<NativeLoad> {
  loading ??= firstLoadable();
  return loading;
}

function unavailable(reason: string, command?: string | null): NativeLoad {
  return { ok: false, info: nativeUnavailableInfo(reason, command) };
}

/** The GPU build first when a GPU is present; a GPU build also runs on the CPU when it is the only one. */
function candidates(builds: ReturnType<typeof findBuilds>, gpuPresent: boolean): NativeBuild[] {
  const order: NativeBuild[] = [];
  if (builds.gpu && gpuPresent) order.push(builds.gpu);
  if (builds.cpu) order.push(builds.cpu);
  if (builds.gpu && !gpuPresent) order.push(builds.gpu);
  return order;
}

async function firstLoadable(): Promise<NativeLoad> {
  if (!nativeSupported()) {
    return unavailable(`native builds exist for Linux x86-64 only (this is ${process.platform}-${process.arch}).`, null);
  }
  const roots = nativeRoots();
  const order = candidates(findBuilds(roots), hasNvidiaGpu());
  if (order.length === 0) {
    const looked = roots.length ? ` (looked in ${roots.join(', ')})` : '';
    return unavailable(`no build of it was found${looked}.`);
  }
  // TensorFlow's C++ logging is chatty on start-up (CPU features, oneDNN); keep
  // warnings and errors. It reads this when the library loads, so set it first.
  process.env.TF_CPP_MIN_LOG_LEVEL ??= '2';
  const failures: string[] = [];
  for (const build of order) {
    const binding = preloadBinding(build);
    if (typeof binding === 'string') {
      failures.push(binding);
      continue;
    }
    try {
      await registerPackage(build);
    } catch (error) {
      // The package is half-registered now; loading another one would collide.
      return unavailable(`${build.manifest.package} failed to load: ${message(error)}`, `${SETUP_COMMAND} -- --${build.flavor} --force`);
    }
    return { ok: true, info: describeLoaded(build, binding) };
  }
  const rebuild = `${SETUP_COMMAND} -- --${order[0]?.flavor ?? 'cpu'} --force`;
  return unavailable(`the build does not load: ${failures.join('; ')}`, rebuild);
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Loads the compiled binding on its own first: if libtensorflow cannot be
 * loaded this fails before tfjs-node registers any kernel, so the next build
 * can still be tried. tfjs-node's own require then gets this cached module.
 */
function preloadBinding(build: NativeBuild): TfjsBinding | string {
  const packageRequire = createRequire(join(build.packageDir, 'package.json'));
  try {
    const preGyp = packageRequire('@mapbox/node-pre-gyp') as { find(packageJson: string): string };
    return packageRequire(preGyp.find(join(build.packageDir, 'package.json'))) as TfjsBinding;
  } catch (error) {
    return `${build.manifest.package}: ${message(error).split('\n')[0]}`;
  }
}

type ResolveFilename = (request: string, parent: { filename?: string | null } | undefined, ...rest: unknown[]) => string;
const SHARED_PACKAGES = /^@tensorflow\/tfjs(?:-core)?(?:\/|$)/;

/**
 * tfjs-node requires @tensorflow/tfjs and tfjs-core; they must be the app's
 * copies, or the backend would register with a second tfjs-core that the
 * app's code never sees. Inside a checkout, Node's lookup already walks up
 * from .native/ to the app's node_modules (setup removes the package's own
 * copies); a packaged app keeps the build outside the asar archive, where
 * that walk finds nothing, so requests from inside the build are sent to the
 * app's copies explicitly.
 */
function routeTfjsToApp(packageDir: string): void {
  const fromAppTfjs = createRequire(require.resolve('@tensorflow/tfjs'));
  const loader = Module as unknown as { _resolveFilename: ResolveFilename };
  const original = loader._resolveFilename;
  const inside = packageDir + sep;
  loader._resolveFilename = function (this: unknown, request, parent, ...rest) {
    if (SHARED_PACKAGES.test(request) && parent?.filename?.startsWith(inside)) return fromAppTfjs.resolve(request);
    return original.call(this, request, parent, ...rest);
  };
}

async function registerPackage(build: NativeBuild): Promise<void> {
  routeTfjsToApp(build.packageDir);
  require(build.packageDir);
  loadedPackageDir = build.packageDir;
  // tfjs-node registers 'tensorflow' with the highest priority and selects it.
  if (tf.getBackend() !== 'tensorflow' && !(await tf.setBackend('tensorflow'))) {
    throw new Error('tf.setBackend("tensorflow") failed after loading the package');
  }
  await tf.ready();
}

/** The libtensorflow file the dynamic loader actually mapped into this process. */
function mappedLibrary(fallback: string): string {
  try {
    const line = readFileSync('/proc/self/maps', 'utf8')
      .split('\n')
      .find((l) => /\/libtensorflow_cc\.so[.\d]*$/.test(l));
    return line ? line.slice(line.indexOf('/')) : fallback;
  } catch {
    return fallback;
  }
}

function describeLoaded(build: NativeBuild, binding: TfjsBinding): BackendInfo {
  const onGpu = binding.isUsingGpuDevice();
  const gpuPresent = hasNvidiaGpu();
  const version = binding.TF_Version;
  let reason: string;
  let command = enableCommand({ native: build.flavor, onGpu });
  if (onGpu) {
    reason = `Using native TensorFlow ${version} on the GPU (${build.manifest.package}).`;
  } else if (build.flavor === 'gpu' && gpuPresent) {
    reason =
      `Using native TensorFlow ${version} on the CPU: the GPU build loaded, but TensorFlow found no usable GPU. ` +
      'Check that `nvidia-smi` works and that the driver supports CUDA 12 (525 or newer); TF_CPP_MIN_LOG_LEVEL=0 shows TensorFlow\'s reason.';
    command = null;
  } else if (gpuPresent) {
    reason = `Using native TensorFlow ${version} on the CPU; an NVIDIA GPU is present, but the GPU build is not set up.`;
  } else {
    reason = `Using native TensorFlow ${version} on the CPU (${build.manifest.package}); no NVIDIA GPU is visible, so nothing faster is possible here.`;
  }
  return {
    name: 'tensorflow',
    device: onGpu ? 'gpu' : 'cpu',
    tensorflowVersion: version,
    libraryPath: mappedLibrary(join(build.packageDir, 'deps', 'lib', 'libtensorflow_cc.so.2')),
    cudaLibraries: build.flavor === 'gpu' ? cudaLibrariesOf(build) : [],
    isFastest: command === null && (onGpu || !gpuPresent),
    reason,
    enableCommand: command,
  };
}
