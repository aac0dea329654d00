/**
 * Who works on a store: the processes that owned tasks recently, read from
 * the tasks themselves (owner, heartbeat, start and end times), so nothing
 * extra is written for it. A worker idle for longer than the window does not
 * show: it has left no trace since.
 */
import type { WorkerSeen } from '../../shared/contract/store';
import type { TaskOwner, TaskRecord } from '../../shared/taskTypes';
import { FACADE_WORKER } from '../store/storage';
import { isOneShotOwnerName } from './oneShotOwner';

function lastSign(task: TaskRecord): number {
  return Math.max(...[task.heartbeatAt, task.finishedAt, task.startedAt].map((time) => (time === null ? 0 : Date.parse(time))));
}

/**
 * One entry per process (host and pid) that owned one of `tasks` within
 * `windowMs` before `now` (or runs one now), newest first. `self` is this
 * workbench's process.
 */
export function workersSeen(tasks: readonly TaskRecord[], options: { now: number; windowMs: number; self: TaskOwner }): WorkerSeen[] {
  const byProcess = new Map<string, WorkerSeen & { last: number; names: string[] }>();
  const seen = new Set<number>();
  for (const task of tasks) {
    if (task.owner === null || seen.has(task.id)) continue;
    seen.add(task.id);
    const live = task.state === 'running' || task.state === 'stopping';
    const last = lastSign(task);
    if (!live && options.now - last > options.windowMs) continue;
    const key = `${task.owner.host}\u0000${task.owner.pid}`;
    let entry = byProcess.get(key);
    if (!entry) {
      entry = {
        host: task.owner.host,
        pid: task.owner.pid,
        names: [],
        lastSeenAt: '',
        last: 0,
        running: [],
        tasks: 0,
        thisWorkbench: task.owner.host === options.self.host && task.owner.pid === options.self.pid,
        oneShot: false,
      };
      byProcess.set(key, entry);
    }
    // The store's own facade name says nothing about the process; its executors' names do.
    if (task.owner.worker !== FACADE_WORKER && !entry.names.includes(task.owner.worker)) entry.names.push(task.owner.worker);
    entry.last = Math.max(entry.last, last);
    entry.tasks += 1;
    if (live) entry.running.push({ taskId: task.id, kind: task.kind, title: task.title });
  }
  return [...byProcess.values()]
    .sort((a, b) => b.last - a.last || a.host.localeCompare(b.host) || a.pid - b.pid)
    .map(({ last, names, ...entry }) => ({
      ...entry,
      names: names.sort(),
      lastSeenAt: new Date(last).toISOString(),
      oneShot: names.length > 0 && names.every(isOneShotOwnerName),
    }));
}
