/** The Jobs drawer's grouping: a batch job's shards (and a study's trials) under their parent, summed up in one line. */
import { describe, expect, it } from 'vitest';
import { childNoun, childTitle, describeChildren, groupTasks, summarizeChildren } from '../../src/renderer/src/lib/taskGroups';
import type { TaskRecord, TaskState } from '../../src/shared/taskTypes';

function task(id: number, fields: Partial<TaskRecord> = {}): TaskRecord {
  return {
    id,
    kind: 'batch',
    title: `Task ${id}`,
    state: 'queued',
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
    attempts: 0,
    createdAt: '2026-11-30T12:00:00.000Z',
    startedAt: null,
    finishedAt: null,
    queuePosition: null,
    ...fields,
  };
}

function shard(id: number, parentId: number, state: TaskState, owner?: [string, string]): TaskRecord {
  return task(id, {
    parentId,
    state,
    params: { jobId: 1, shard: id - parentId - 1 },
    owner: owner ? { host: owner[0], worker: owner[1], pid: 100 + id } : null,
  });
}

describe('groupTasks', () => {
  it('lists a job once, with its shards under it, oldest shard first', () => {
    // The store lists newest first: the shards come before their job.
    const list = [shard(13, 10, 'queued'), shard(12, 10, 'running'), shard(11, 10, 'completed'), task(10, { state: 'running' }), task(9, { kind: 'training' })];
    const groups = groupTasks(list);
    expect(groups.map((group) => group.task.id)).toEqual([10, 9]);
    expect(groups[0]!.children.map((child) => child.id)).toEqual([11, 12, 13]);
    expect(groups[1]!.children).toEqual([]);
  });

  it('keeps a child whose parent is not in the list at the top level', () => {
    const groups = groupTasks([shard(21, 20, 'running'), task(5, { kind: 'training' })]);
    expect(groups.map((group) => group.task.id)).toEqual([21, 5]);
  });

  it('groups trials under their study the same way', () => {
    const groups = groupTasks([task(31, { kind: 'trial', parentId: 30 }), task(30, { kind: 'study' })]);
    expect(groups).toHaveLength(1);
    expect(groups[0]!.children.map((child) => child.id)).toEqual([31]);
    expect(childNoun(groups[0]!.children)).toBe('trials');
  });

  it('keeps a 200-shard job to one group', () => {
    const children = Array.from({ length: 200 }, (_, i) => shard(1200 - i, 1000, i < 186 ? 'queued' : i < 188 ? 'running' : 'completed'));
    const groups = groupTasks([...children, task(1000, { state: 'running' })]);
    expect(groups).toHaveLength(1);
    expect(groups[0]!.children).toHaveLength(200);
  });
});

describe('describeChildren', () => {
  it('counts shards by state and names where the running ones run', () => {
    const children = [
      ...Array.from({ length: 12 }, (_, i) => shard(101 + i, 100, 'completed')),
      shard(113, 100, 'running', ['host-a', 'worker-1']),
      shard(114, 100, 'running', ['host-b', 'worker-2']),
      ...Array.from({ length: 186 }, (_, i) => shard(115 + i, 100, 'queued')),
    ];
    expect(describeChildren(children)).toBe('shards: 12 done, 2 running on host-a/worker-1, host-b/worker-2, 186 queued');
  });

  it('names a runner once and counts the runners past the third', () => {
    const children = [
      shard(101, 100, 'running', ['a', 'w1']),
      shard(102, 100, 'running', ['a', 'w1']),
      shard(103, 100, 'running', ['b', 'w1']),
      shard(104, 100, 'running', ['c', 'w1']),
      shard(105, 100, 'running', ['d', 'w1']),
      shard(106, 100, 'running', ['e', 'w1']),
    ];
    expect(describeChildren(children)).toBe('shards: 6 running on a/w1, b/w1, c/w1 and 2 more');
    expect(summarizeChildren(children).runners).toEqual(['a/w1', 'b/w1', 'c/w1', 'd/w1', 'e/w1']);
  });

  it('names failures, crashes and stopped shards, and says "running" without a place when no owner is known yet', () => {
    const children = [shard(101, 100, 'failed'), shard(102, 100, 'crashed'), shard(103, 100, 'cancelled'), shard(104, 100, 'running'), shard(105, 100, 'stopping')];
    expect(describeChildren(children)).toBe('shards: 1 running, 1 stopping, 1 stopped, 1 crashed, 1 failed');
  });

  it('calls mixed children tasks', () => {
    expect(describeChildren([task(2, { parentId: 1, kind: 'training', state: 'completed' }), shard(3, 1, 'completed')])).toBe('tasks: 2 done');
  });
});

describe('childTitle', () => {
  it('calls a shard by its number from 1 and keeps other titles', () => {
    expect(childTitle(task(5, { parentId: 1, title: 'Captioning /data', params: { jobId: 1, shard: 2 } }))).toBe('Shard 3');
    expect(childTitle(task(6, { parentId: 1, kind: 'trial', title: 'Trial 4 of study 1' }))).toBe('Trial 4 of study 1');
  });
});
