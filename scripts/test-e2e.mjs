#!/usr/bin/env node
// `npm run test:e2e`: the end-to-end tests drive the real UI in Chromium.
// Finds a Chromium (CHROMIUM_PATH, else `chromium`, `chromium-browser`,
// `google-chrome` on PATH, else the one `npx playwright-core install
// chromium` downloads) and runs them with it. Where there is none, it says how
// to get one and exits 0, so `npm test` still reports every other test as
// passed; under CI (CI=true) a missing browser fails instead, so CI never
// passes without its end-to-end tests.
import { spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const NAMES = ['chromium', 'chromium-browser', 'google-chrome', 'google-chrome-stable'];

function executable(path) {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function onPath(name) {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir && executable(join(dir, name))) return join(dir, name);
  }
  return null;
}

/** The browser playwright-core would download for itself, if it was downloaded. */
function playwrightChromium() {
  try {
    const path = createRequire(join(root, 'package.json'))('playwright-core').chromium.executablePath();
    return path && existsSync(path) ? path : null;
  } catch {
    return null;
  }
}

function findChromium() {
  const explicit = process.env.CHROMIUM_PATH;
  if (explicit) {
    if (!executable(explicit)) {
      console.error(`test:e2e: CHROMIUM_PATH is ${explicit}, which is not an executable file.`);
      process.exit(1);
    }
    return explicit;
  }
  for (const name of NAMES) {
    const found = onPath(name);
    if (found) return found;
  }
  return playwrightChromium();
}

const chromium = findChromium();
if (!chromium) {
  const lines = [
    '',
    'test:e2e: no Chromium found, so the end-to-end tests (the UI driven in a browser) did NOT run.',
    `  Looked for CHROMIUM_PATH, ${NAMES.join(', ')} on PATH, and playwright-core's own download.`,
    '  Get one, then run `npm run test:e2e`:',
    '    Debian/Ubuntu:  sudo apt-get install chromium',
    "    anywhere else:  npx playwright-core install chromium   (downloads Playwright's build)",
    '    or point CHROMIUM_PATH at a Chromium or Chrome binary.',
    '',
  ];
  if (process.env.CI) {
    console.error(`${lines.join('\n')}CI is set, so this fails the run.\n`);
    process.exit(1);
  }
  console.log(lines.join('\n'));
  process.exit(0);
}

console.log(`test:e2e: Chromium ${chromium}`);
const vitest = join(root, 'node_modules', 'vitest', 'vitest.mjs');
const result = spawnSync(process.execPath, [vitest, 'run', '--config', 'vitest.e2e.config.ts', ...process.argv.slice(2)], {
  cwd: root,
  stdio: 'inherit',
  env: { ...process.env, CHROMIUM_PATH: chromium },
});
process.exit(result.status ?? 1);
