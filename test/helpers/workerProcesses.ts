/**
 * `captioner` processes for the tests of several workers on one store:
 * started as real processes (their JSON lines collected as they come), in
 * their own process group so that SIGKILL takes their engine along, as a
 * machine losing power would; and a poll of the store until something holds.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';

/** Fast heartbeats and polls; a killed worker is found at once by its pid (same host), the stale limit only has to outlast a live worker's stalls on a busy machine. */
export const WORKER_ENV = { CAPTIONER_HEARTBEAT_MS: '300', CAPTIONER_STALE_AFTER_MS: '8000', CAPTIONER_POLL_MS: '300' };

export interface CliProcess {
  child: ChildProcess;
  /** Every JSON line it printed so far. */
  lines: Array<Record<string, unknown>>;
  /** Its exit code (null when a signal ended it). */
  exited: Promise<number | null>;
}

export interface WorkerProcess extends CliProcess {
  name: string;
}

/** Starts `captioner ARGS`; `ownGroup` puts it in a process group of its own (kill it with `process.kill(-pid)`). */
export function startCli(args: string[], options: { env?: Record<string, string>; ownGroup?: boolean } = {}): CliProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', join(process.cwd(), 'src', 'main', 'cli', 'index.ts'), ...args], {
    env: { ...process.env, ...WORKER_ENV, ...options.env, CAPTIONER_CLI: '1' },
    detached: options.ownGroup ?? false,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: Array<Record<string, unknown>> = [];
  let buffer = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    buffer += chunk.toString();
    const complete = buffer.split('\n');
    buffer = complete.pop() ?? '';
    for (const line of complete) if (line.trim()) lines.push(JSON.parse(line) as Record<string, unknown>);
  });
  child.stderr!.resume();
  return { child, lines, exited: new Promise((resolve) => child.on('exit', (code) => resolve(code))) };
}

/** `captioner worker --store URL --data-dir DIR --name NAME --json` in its own process group. */
export function startWorker(url: string, dataDir: string, name: string, env: Record<string, string> = {}): WorkerProcess {
  return { name, ...startCli(['worker', '--store', url, '--data-dir', dataDir, '--name', name, '--json'], { env, ownGroup: true }) };
}

/** Ctrl-C to every worker still running; their exit codes. */
export async function stopWorkers(workers: WorkerProcess[]): Promise<Array<number | null>> {
  for (const worker of workers) if (worker.child.exitCode === null && worker.child.signalCode === null) process.kill(-worker.child.pid!, 'SIGINT');
  return Promise.all(workers.map((worker) => worker.exited));
}

/** Polls `probe` until it answers something truthy; an error naming `what` after `timeoutMs`. */
export async function until<T>(what: string, probe: () => Promise<T | null | undefined | false>, timeoutMs = 240_000, intervalMs = 150): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}.`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
