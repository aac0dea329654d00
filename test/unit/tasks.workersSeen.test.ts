/** Who works on a store, read from the tasks' owners and times. */
import { describe, expect, it } from 'vitest';
import { isOneShotOwnerName, oneShotOwnerName } from '../../src/main/tasks/oneShotOwner';
import { workersSeen } from '../../src/main/tasks/workersSeen';
import type { TaskRecord } from '../../src/shared/taskTypes';

const NOW = Date.UTC(2026, 0, 5, 12, 0, 0);
const iso = (minutesAgo: number) => new Date(NOW - minutesAgo * 60_000).toISOString();
const self = { host: 'desk', pid: 100, worker: 'workbench' };

let nextId = 1;
function task(overrides: Partial<TaskRecord>): TaskRecord {
  return {
    id: nextId++,
    kind: 'training',
    title: `task ${nextId}`,
    state: 'completed',
    params: {},
    subject: null,
    parentId: null,
    retryOf: null,
    placement: 'any',
    owner: null,
    heartbeatAt: null,
    progress: null,
    result: null,
    error: null,
    attempts: 1,
    createdAt: iso(120),
    startedAt: null,
    finishedAt: null,
    queuePosition: null,
    ...overrides,
  };
}

describe('workers seen on a store', () => {
  it('groups tasks by process, newest first, with what each runs now and its executors’ names', () => {
    const box = { host: 'gpu-box', pid: 7, worker: 'box-gpu0' };
    const tasks = [
      task({ owner: box, state: 'running', title: 'Training run 4', heartbeatAt: iso(0.1), startedAt: iso(30) }),
      task({ owner: { ...box, worker: 'box-gpu1' }, finishedAt: iso(5), heartbeatAt: iso(5) }),
      task({ owner: self, finishedAt: iso(2) }),
      // The store's facade name is no executor's name.
      task({ owner: { ...self, worker: 'main' }, kind: 'trial', state: 'running', title: 'Trial 0', heartbeatAt: iso(1) }),
      task({ owner: { host: 'old-box', pid: 9, worker: 'w' }, finishedAt: iso(90), heartbeatAt: iso(90) }),
      task({ state: 'queued', placement: 'workers' }),
    ];
    const seen = workersSeen(tasks, { now: NOW, windowMs: 15 * 60_000, self });
    expect(seen).toEqual([
      {
        host: 'gpu-box',
        pid: 7,
        names: ['box-gpu0', 'box-gpu1'],
        lastSeenAt: iso(0.1),
        running: [{ taskId: tasks[0]!.id, kind: 'training', title: 'Training run 4' }],
        tasks: 2,
        thisWorkbench: false,
        oneShot: false,
      },
      {
        host: 'desk',
        pid: 100,
        names: ['workbench'],
        lastSeenAt: iso(1),
        running: [{ taskId: tasks[3]!.id, kind: 'trial', title: 'Trial 0' }],
        tasks: 2,
        thisWorkbench: true,
        oneShot: false,
      },
    ]);
  });

  it('marks one-shot captioner commands apart from the processes that take work (the app, serve mode, workers)', () => {
    const synth = task({ owner: { host: 'desk', pid: 201, worker: oneShotOwnerName('synth') }, kind: 'synthesis', finishedAt: iso(3) });
    const training = task({ owner: { host: 'desk', pid: 202, worker: oneShotOwnerName('train') }, state: 'running', heartbeatAt: iso(0.2) });
    const worker = task({ owner: { host: 'gpu-box', pid: 7, worker: 'worker-7' }, finishedAt: iso(4) });
    const app = task({ owner: self, finishedAt: iso(6) });
    const seen = workersSeen([synth, training, worker, app], { now: NOW, windowMs: 15 * 60_000, self });
    const byPid = new Map(seen.map((entry) => [entry.pid, entry]));
    expect(byPid.get(201)).toMatchObject({ names: ['captioner synth'], oneShot: true, running: [] });
    expect(byPid.get(202)).toMatchObject({ names: ['captioner train'], oneShot: true, running: [{ taskId: training.id }] });
    expect(byPid.get(7)).toMatchObject({ names: ['worker-7'], oneShot: false });
    expect(byPid.get(100)).toMatchObject({ names: ['workbench'], oneShot: false, thisWorkbench: true });
    expect(isOneShotOwnerName('captioner batch')).toBe(true);
    expect(isOneShotOwnerName('captioner worker')).toBe(false);
    expect(isOneShotOwnerName('workbench')).toBe(false);
  });

  it('keeps a process whose running task went silent for longer than the window, and counts a task listed twice once', () => {
    const long = task({ owner: { host: 'slow', pid: 3, worker: 'w' }, state: 'stopping', heartbeatAt: iso(40) });
    const seen = workersSeen([long, long], { now: NOW, windowMs: 15 * 60_000, self });
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({ host: 'slow', tasks: 1, running: [{ taskId: long.id }] });
    expect(workersSeen([], { now: NOW, windowMs: 60_000, self })).toEqual([]);
  });
});
