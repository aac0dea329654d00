/**
 * One builder per cache folder at a time. Two training runs on the same
 * images and encoder (in one engine, or a CLI run beside the app's engine)
 * would otherwise write the same files at once. In-process callers queue on
 * a promise; other processes see `<dir>.lock` holding the builder's pid, and
 * wait until it is gone, or take it over when that process no longer exists.
 */
import { mkdir, open, readFile, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { ApiError } from '../../../shared/errors';

const queues = new Map<string, Promise<void>>();
const POLL_MS = 200;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function acquireFile(lockFile: string, signal?: AbortSignal): Promise<void> {
  await mkdir(dirname(lockFile), { recursive: true });
  for (;;) {
    if (signal?.aborted) throw new ApiError('cancelled', `Cancelled while waiting for another process to finish building ${dirname(lockFile)}.`);
    try {
      const handle = await open(lockFile, 'wx');
      await handle.writeFile(String(process.pid));
      await handle.close();
      return;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const owner = Number((await readFile(lockFile, 'utf8').catch(() => '')).trim());
    // A lock whose writer is gone (or that is still being written) is taken over; a live one is waited for.
    if (!Number.isInteger(owner) || owner <= 0 || !alive(owner)) await rm(lockFile, { force: true });
    else await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

export async function withBuildLock<T>(dir: string, signal: AbortSignal | undefined, body: () => Promise<T>): Promise<T> {
  const previous = queues.get(dir) ?? Promise.resolve();
  let release!: () => void;
  const mine = new Promise<void>((resolve) => (release = resolve));
  const tail = previous.then(() => mine);
  queues.set(dir, tail);
  try {
    await previous;
    const lockFile = `${dir}.lock`;
    await acquireFile(lockFile, signal);
    try {
      return await body();
    } finally {
      await rm(lockFile, { force: true });
    }
  } finally {
    release();
    if (queues.get(dir) === tail) queues.delete(dir);
  }
}
