/**
 * `captioner` processes for the tests of several workers on one store:
 * started as real processes (their JSON lines collected as they come), in
 * their own process group so that SIGKILL takes their engine along, as a
 * machine losing power would; a kill at a moment chosen while the worker is
 * frozen; and a poll of the store until something holds.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
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

/**
 * Freezes WORKER (SIGSTOP to its process group: the worker and its engine)
 * while `look` reads the store, so the moment `look` judges cannot pass
 * before the kill: when `look` answers something, the worker is SIGKILLed
 * still frozen, dying in exactly the state `look` saw, and the answer is
 * returned; otherwise the worker goes on (SIGCONT) and the answer is null.
 * One thing can still move under `look`: a statement the worker had sent
 * before it froze may yet commit, so `look` must leave room for it.
 * Keep `look` short: a worker frozen past the stale limit loses its tasks.
 */
export async function killIfFrozen<T>(worker: WorkerProcess, look: () => Promise<T | null>): Promise<T | null> {
  const group = worker.child.pid!;
  process.kill(-group, 'SIGSTOP');
  let found: T | null = null;
  try {
    // The signal takes hold in each process of the group a moment after it is sent: wait until all have stopped.
    await until(`worker ${worker.name} to stop`, async () => groupStopped(group), 10_000, 1);
    found = await look();
  } finally {
    process.kill(-group, found === null ? 'SIGCONT' : 'SIGKILL');
  }
  return found;
}

/** Whether every live process of a process group is stopped (`T` in /proc/PID/stat; zombies count as stopped). */
function groupStopped(group: number): boolean {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue; // it ended meanwhile
    }
    // "pid (comm) state ppid pgrp ...": comm may hold spaces and parentheses, so read after the last ')'.
    const [state, , pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(pgrp) === group && state !== 'T' && state !== 'Z' && state !== 'X') return false;
  }
  return true;
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
