/**
 * Starts the built workbench in serve mode (`captioner serve`) with a fresh
 * data directory and drives it with Debian's Chromium through playwright-core.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';

export const root = resolve(__dirname, '..', '..');
export const screenshotDir = join(root, 'test-output', 'e2e');
export const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const cli = join(root, 'bin', 'captioner.cjs');

export interface Session {
  url: string;
  dataDir: string;
  server: ChildProcess;
  browser: Browser;
  page: Page;
  close(): Promise<void>;
}

export function requireBuild(): void {
  if (!existsSync(join(root, 'out', 'renderer', 'index.html')) || !existsSync(join(root, 'out', 'main', 'cli.js'))) {
    throw new Error('The app is not built: run `npm run build` before the end-to-end tests (npm test does).');
  }
  if (!existsSync(chromiumPath)) {
    throw new Error(`Chromium not found at ${chromiumPath}: install it (apt-get install chromium) or set CHROMIUM_PATH.`);
  }
}

/** Runs `captioner ARGS` to completion and returns its stdout. */
export function runCli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolveRun, reject) => {
    const child = spawn(process.execPath, [cli, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolveRun({ code: code ?? -1, stdout, stderr }));
  });
}

export async function startSession(dataDir = mkdtempSync(join(tmpdir(), 'e2e-data-'))): Promise<Session> {
  requireBuild();
  mkdirSync(screenshotDir, { recursive: true });
  const server = spawn(process.execPath, [cli, 'serve', '--port', '0', '--json', '--data-dir', dataDir], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  server.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const url = await new Promise<string>((resolveUrl, reject) => {
    let buffered = '';
    const timer = setTimeout(() => reject(new Error(`serve did not print its URL in time. stderr:\n${stderr}`)), 60_000);
    server.stdout!.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      for (const line of buffered.split('\n')) {
        if (line.startsWith('{')) {
          clearTimeout(timer);
          resolveUrl((JSON.parse(line) as { url: string }).url);
        }
      }
    });
    server.once('exit', (code) => reject(new Error(`serve exited with ${code}. stderr:\n${stderr}`)));
  });
  const browser = await chromium.launch({
    executablePath: chromiumPath,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
  });
  const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
  const consoleErrors: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') consoleErrors.push(message.text());
  });
  return {
    url,
    dataDir,
    server,
    browser,
    page,
    async close() {
      await browser.close();
      server.kill('SIGTERM');
      await new Promise((resolveExit) => server.once('exit', resolveExit));
    },
  };
}

/** `#/system` on the served URL. */
export function pageUrl(session: Session, route: string): string {
  const url = new URL(session.url);
  url.hash = `#/${route}`;
  return url.toString();
}

export async function screenshot(page: Page, name: string): Promise<string> {
  const file = join(screenshotDir, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}
