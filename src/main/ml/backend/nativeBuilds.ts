/**
 * Where native TensorFlow builds live and what this machine could run: the
 * facts the loader needs before it loads anything. Builds are made by
 * `npm run setup:tensorflow` (scripts/setup-tensorflow.mjs) into
 * `.native/<cpu|gpu>/`, each with a build.json describing it.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { appRoot } from '../../core/paths';

export type NativeFlavor = 'gpu' | 'cpu';

/** What scripts/setup-tensorflow.mjs writes next to a build. */
export interface BuildManifest {
  flavor: NativeFlavor;
  package: string;
  tfjsVersion: string;
  tensorflowVersion: string;
  wheel: string;
  cudaWheels: string[];
  bindings: string[];
}

export interface NativeBuild {
  flavor: NativeFlavor;
  /** The tfjs-node(-gpu) package folder. */
  packageDir: string;
  manifest: BuildManifest;
}

export const SETUP_COMMAND = 'npm run setup:tensorflow';

export function nativeSupported(): boolean {
  return process.platform === 'linux' && process.arch === 'x64';
}

/** An NVIDIA GPU with its driver loaded (under WSL2, the driver's libcuda that Windows maps in). */
export function hasNvidiaGpu(): boolean {
  return ['/dev/nvidiactl', '/proc/driver/nvidia/version', '/usr/lib/wsl/lib/libcuda.so.1'].some((path) => existsSync(path));
}

function sourceCheckout(): string | null {
  try {
    const root = appRoot();
    return existsSync(join(root, 'scripts', 'setup-tensorflow.mjs')) ? root : null;
  } catch {
    return null;
  }
}

/**
 * Folders that may hold `<flavor>/build.json`, in search order: an explicit
 * CAPTIONER_NATIVE_DIR, the checkout's .native/ (development, CI, `captioner`
 * from a checkout), and a packaged app's resources/native/ (copied there as an
 * extra resource, outside the asar archive, since the dynamic loader cannot
 * read inside one).
 */
export function nativeRoots(env: NodeJS.ProcessEnv = process.env): string[] {
  const roots: string[] = [];
  if (env.CAPTIONER_NATIVE_DIR) roots.push(env.CAPTIONER_NATIVE_DIR);
  const checkout = sourceCheckout();
  if (checkout) roots.push(join(checkout, '.native'));
  const resources = (process as NodeJS.Process & { resourcesPath?: string }).resourcesPath;
  if (resources) roots.push(join(resources, 'native'));
  return roots;
}

function readManifest(dir: string): BuildManifest | null {
  try {
    return JSON.parse(readFileSync(join(dir, 'build.json'), 'utf8')) as BuildManifest;
  } catch {
    return null;
  }
}

/** Complete builds (manifest and compiled binding present), the first found per flavor. */
export function findBuilds(roots: string[] = nativeRoots()): Partial<Record<NativeFlavor, NativeBuild>> {
  const builds: Partial<Record<NativeFlavor, NativeBuild>> = {};
  for (const root of roots) {
    for (const flavor of ['gpu', 'cpu'] as const) {
      if (builds[flavor]) continue;
      const dir = join(root, flavor);
      const manifest = readManifest(dir);
      if (!manifest || manifest.flavor !== flavor) continue;
      const packageDir = join(dir, 'node_modules', ...manifest.package.split('/'));
      if (manifest.bindings.some((binding) => existsSync(join(packageDir, binding)))) builds[flavor] = { flavor, packageDir, manifest };
    }
  }
  return builds;
}

/** CUDA libraries shipped next to a GPU build (deps/nvidia/<library>/lib), by soname. */
export function cudaLibrariesOf(build: NativeBuild): string[] {
  const nvidia = join(build.packageDir, 'deps', 'nvidia');
  if (!existsSync(nvidia)) return [];
  return readdirSync(nvidia)
    .flatMap((library) => {
      const lib = join(nvidia, library, 'lib');
      return existsSync(lib) ? readdirSync(lib).filter((file) => /^lib[\w+-]+\.so\.\d+$/.test(file)) : [];
    })
    .sort();
}

/**
 * The command that enables a faster backend than `current`, or null when none
 * is possible here: no native build on this platform, or no source checkout to
 * run the setup in (a packaged app ships its native build or goes without).
 */
export function enableCommand(current: { native: NativeFlavor | null; onGpu: boolean }): string | null {
  if (!nativeSupported() || !sourceCheckout()) return null;
  if (hasNvidiaGpu() && !current.onGpu) return `${SETUP_COMMAND} -- --gpu`;
  return current.native ? null : SETUP_COMMAND;
}
