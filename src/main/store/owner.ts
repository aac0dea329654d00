/**
 * Which process owns a running task, and whether it is still alive: the
 * crash check that needs no waiting. A task whose owner is gone can be
 * crashed at once at the next start; one owned by a live process (the app
 * while the CLI opens the same data directory) or by a process on another
 * machine is left to its heartbeat.
 */
import { hostname } from 'node:os';

export interface Owner {
  host: string;
  pid: number;
}

export function currentOwner(): Owner {
  return { host: hostname(), pid: process.pid };
}

export type OwnerCheck = (host: string | null, pid: number | null) => boolean;

/** True unless the owner certainly died: same host, another pid, no such process. */
export const isOwnerAlive: OwnerCheck = (host, pid) => {
  if (host === null || pid === null) return false;
  if (host !== hostname()) return true; // Cannot see other machines: the heartbeat decides.
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
};
