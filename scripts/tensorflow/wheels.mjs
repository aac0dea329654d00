// Getting TensorFlow's wheels (and, for GPU builds, NVIDIA's CUDA 12 wheels)
// from PyPI. Downloads go through `pip download --no-deps`, so pip's own
// configuration (index mirrors, proxies, certificates) applies and pip checks
// each file against the index's hash. Nothing is ever installed into a Python
// environment: the wheels are zip files we unpack ourselves.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileSource, openZip, urlSource } from './zip.mjs';

/**
 * The Python whose wheels we ask for. The shared libraries inside do not link
 * against Python, so any supported version gives the same C API; 3.11 is
 * supported by every TensorFlow release from 2.12 to 2.21, so pinning it makes
 * the download independent of the Python installed here.
 */
const WHEEL_PYTHON = '3.11';
const PYTHON_TAG = 'cp311';

/** pip package that ships the libraries: the CPU-only wheel is half the size. */
export function tensorflowPackage(flavor) {
  return flavor === 'gpu' ? 'tensorflow' : 'tensorflow-cpu';
}

/** manylinux platform tags this machine's glibc can run, newest first. */
export function platformTags() {
  const glibc = process.report?.getReport().header.glibcVersionRuntime;
  if (!glibc) throw new Error('could not read the glibc version (musl-based systems are not supported by TensorFlow wheels)');
  const minor = Number(glibc.split('.')[1]);
  const tags = [];
  for (let m = minor; m >= 17; m--) tags.push(`manylinux_2_${m}_x86_64`);
  tags.push('manylinux2014_x86_64', 'manylinux2010_x86_64', 'manylinux1_x86_64');
  return tags;
}

/** The file name pip gives a distribution: lower case, runs of -_. become _. */
function wheelPrefix(name) {
  return name.toLowerCase().replace(/[-_.]+/g, '_');
}

export function findPython() {
  for (const candidate of ['python3', 'python']) {
    const probe = spawnSync(candidate, ['-m', 'pip', '--version'], { encoding: 'utf8' });
    if (probe.status === 0) return candidate;
  }
  return null;
}

/**
 * `pip download --no-deps` of `requirements` into `dir`; returns the wheel
 * paths pip reports (it also reports files already present there).
 */
export function pipDownload(python, requirements, dir) {
  mkdirSync(dir, { recursive: true });
  const args = ['-m', 'pip', 'download', '--no-deps', '--only-binary=:all:', '--implementation', 'cp'];
  args.push('--python-version', WHEEL_PYTHON, '--dest', dir);
  for (const tag of platformTags()) args.push('--platform', tag);
  args.push(...requirements);
  const result = spawnSync(python, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  if (result.status !== 0) {
    const detail = (result.stdout + result.stderr).trim().split('\n').slice(-6).join('\n');
    throw new Error(`pip could not download ${requirements.join(' ')}:\n${detail}`);
  }
  const saved = [...result.stdout.matchAll(/^(?:Saved|File was already downloaded) (.+\.whl)$/gm)].map((m) =>
    m[1].startsWith('/') ? m[1] : join(dir, m[1].split('/').pop()),
  );
  if (saved.length !== requirements.length) {
    throw new Error(`pip reported ${saved.length} wheels for ${requirements.length} requirements:\n${result.stdout}`);
  }
  return saved;
}

/** A cached wheel for `name==version`, if one was downloaded before. */
export function cachedWheel(dir, name, version) {
  if (!existsSync(dir)) return null;
  const prefix = `${wheelPrefix(name)}-${version}-`;
  const file = readdirSync(dir).find((f) => f.startsWith(prefix) && f.endsWith('.whl'));
  return file ? join(dir, file) : null;
}

async function metadataOf(zip) {
  const entry = [...zip.entries.values()].find((e) => /^[^/]+\.dist-info\/METADATA$/.test(e.name));
  if (!entry) throw new Error('the wheel has no .dist-info/METADATA');
  return (await zip.read(entry)).toString('utf8');
}

/** The requirements TensorFlow declares for its `and-cuda` extra: the CUDA 12 libraries it was built for. */
export function cudaRequirements(metadata) {
  const requirements = [];
  for (const line of metadata.split('\n')) {
    const match = /^Requires-Dist:\s*([^;]+);(.*)$/.exec(line.trim());
    if (match && /extra\s*==\s*["']and[-_]cuda["']/.test(match[2])) requirements.push(match[1].replace(/\s+/g, ''));
  }
  return requirements;
}

export async function wheelMetadata(path) {
  return metadataOf(await openZip(fileSource(path)));
}

/**
 * Downloads (or reuses from `dir`) the wheels a build needs. A small manifest
 * per flavor and version remembers what pip chose, so a rebuild needs no
 * network at all once everything is cached.
 */
export async function fetchWheels({ python, flavor, version, dir, log }) {
  const manifestPath = join(dir, `${flavor}-${version}.json`);
  if (existsSync(manifestPath)) {
    const manifest = JSON.parse(readFileSync(manifestPath, 'utf8'));
    const files = [manifest.tensorflow, ...manifest.cuda].map((f) => join(dir, f));
    if (files.every((f) => existsSync(f))) {
      log(`Using cached wheels in ${dir}`);
      return { tensorflow: files[0], cuda: files.slice(1) };
    }
  }
  if (!python) {
    throw new Error(
      'pip is needed to download TensorFlow from PyPI, and neither `python3 -m pip` nor `python -m pip` works.\n' +
        'Install pip (Debian/Ubuntu: `sudo apt-get install python3-pip`), or put the wheel ' +
        `${tensorflowPackage(flavor)}==${version} (manylinux, x86_64) into ${dir} and run this again.`,
    );
  }
  const name = tensorflowPackage(flavor);
  log(`Downloading ${name}==${version} from PyPI (pip download, cached in ${dir})`);
  const [tensorflow] = pipDownload(python, [`${name}==${version}`], dir);
  let cuda = [];
  if (flavor === 'gpu') {
    const requirements = cudaRequirements(await wheelMetadata(tensorflow));
    if (requirements.length === 0) throw new Error(`${name} ${version} declares no "and-cuda" extra; pick a TensorFlow version >= 2.14 for GPU builds`);
    log(`Downloading the CUDA 12 libraries TensorFlow ${version} asks for:\n  ${requirements.join('\n  ')}`);
    cuda = pipDownload(python, requirements, dir);
  }
  const names = (files) => files.map((f) => f.split('/').pop());
  writeFileSync(manifestPath, `${JSON.stringify({ tensorflow: names([tensorflow])[0], cuda: names(cuda) }, null, 2)}\n`);
  return { tensorflow, cuda };
}

// ---------------------------------------------------------------------------
// --dry-run: what pip would fetch, from the index's JSON API (PEP 691),
// without downloading any wheel. Versions follow pip's defaults: the newest
// release matching the requirement, no pre-releases, nothing yanked.

function indexUrl() {
  return (process.env.PIP_INDEX_URL || 'https://pypi.org/simple').replace(/\/+$/, '');
}

async function indexFiles(name) {
  const url = `${indexUrl()}/${wheelPrefix(name).replace(/_/g, '-')}/`;
  const response = await fetch(url, { headers: { Accept: 'application/vnd.pypi.simple.v1+json' } });
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
  const body = await response.json();
  if (!Array.isArray(body.files)) throw new Error(`${url} did not answer with the JSON simple API (PEP 691)`);
  return body.files;
}

/** Release numbers and post-release of a PEP 440 version; null for pre- and dev releases. */
function parseVersion(text) {
  const match = /^(\d+(?:\.\d+)*)(?:\.post(\d+))?$/.exec(text);
  return match ? { release: match[1].split('.').map(Number), post: Number(match[2] ?? -1) } : null;
}

function compareVersions(a, b) {
  const length = Math.max(a.release.length, b.release.length);
  for (let i = 0; i < length; i++) {
    const d = (a.release[i] ?? 0) - (b.release[i] ?? 0);
    if (d !== 0) return d;
  }
  return a.post - b.post;
}

function satisfies(version, specifiers) {
  return specifiers.every(({ op, bound, prefix }) => {
    if (prefix) return prefix.every((n, i) => version.release[i] === n) === (op === '==');
    const c = compareVersions(version, bound);
    return { '==': c === 0, '!=': c !== 0, '<': c < 0, '<=': c <= 0, '>': c > 0, '>=': c >= 0 }[op];
  });
}

function parseRequirement(requirement) {
  const match = /^([A-Za-z0-9._-]+)(.*)$/.exec(requirement);
  const specifiers = match[2]
    .split(',')
    .filter(Boolean)
    .flatMap((part) => {
      const [, op, value] = /^(==|!=|<=|>=|<|>|~=)(.+)$/.exec(part);
      if (value.endsWith('.*')) return [{ op, prefix: value.slice(0, -2).split('.').map(Number) }];
      const bound = parseVersion(value);
      // An exact pre-release (==2.22.0rc0) is matched as text: pip takes it when asked by name.
      if (op === '==' && !bound) return [{ op, exact: value }];
      if (op !== '~=') return [{ op, bound }];
      // ~=X.Y.Z means >=X.Y.Z and ==X.Y.*
      return [{ op: '>=', bound }, { op: '==', prefix: bound.release.slice(0, -1) }];
    });
  return { name: match[1], specifiers };
}

function wheelCompatible(filename, platforms) {
  const parts = filename.slice(0, -4).split('-');
  const [py, abi, plat] = parts.slice(-3);
  return (
    py.split('.').some((t) => t === PYTHON_TAG || t === 'py3') &&
    abi.split('.').some((t) => t === PYTHON_TAG || t === 'abi3' || t === 'none') &&
    plat.split('.').some((t) => platforms.includes(t))
  );
}

/** The wheel pip would pick for `requirement`: {name, version, filename, url, size}. */
export async function resolveWheel(requirement) {
  const { name, specifiers } = parseRequirement(requirement);
  const platforms = platformTags();
  let best = null;
  for (const file of await indexFiles(name)) {
    if (!file.filename.endsWith('.whl') || file.yanked || !wheelCompatible(file.filename, platforms)) continue;
    const versionText = file.filename.split('-')[1];
    const exact = specifiers.find((s) => s.exact);
    const version = parseVersion(versionText) ?? (exact?.exact === versionText ? { release: [], post: -1 } : null);
    if (!version || !(exact ? exact.exact === versionText : satisfies(version, specifiers))) continue;
    if (!best || compareVersions(version, best.parsed) > 0) {
      best = { name, version: versionText, parsed: version, filename: file.filename, url: file.url, size: file.size ?? null };
    }
  }
  if (!best) throw new Error(`no wheel on ${indexUrl()} matches ${requirement} for Python ${WHEEL_PYTHON} on ${platforms[0]}`);
  return best;
}

/** METADATA of a wheel on the index, read through range requests (a few kilobytes). */
export async function remoteMetadata(wheel) {
  return metadataOf(await openZip(urlSource(wheel.url, wheel.size)));
}
