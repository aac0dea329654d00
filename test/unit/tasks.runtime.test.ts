/** The task runtime against a real SQLite store: claiming, lanes, stop, outcomes, recovery and crash rules. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EventBus } from '../../src/main/core/eventBus';
import { Logger } from '../../src/main/core/logger';
import { openSqliteStore, type SqliteExperimentStore } from '../../src/main/store/sqliteStore';
import { TaskRuntime, type TaskRuntimeOptions } from '../../src/main/tasks/runtime';
import { StoppedEarly, type CrashRule, type TaskContext, type TaskHandler } from '../../src/main/tasks/types';
import { ApiError } from '../../src/shared/errors';
import type { TaskKind, TaskProgressEvent, TaskRecord } from '../../src/shared/taskTypes';
import { tempDataDir } from '../helpers/storeFixtures';

type Body = (context: TaskContext<{ n: number }>) => Promise<object>;

/** A handler whose behaviour each test sets; it records every run. */
function handler(kind: TaskKind, body: Body, onCrash: CrashRule = 'none'): TaskHandler<{ n: number }, object> & { runs: number[] } {
  const runs: number[] = [];
  return {
    kind,
    runs,
    onCrash,
    parse: (params) => {
      if (typeof params.n !== 'number') throw new Error('params.n must be a number');
      return { n: params.n };
    },
    run: (context) => {
      runs.push(context.task.id);
      return body(context);
    },
  };
}

function deferred<T = void>(): { promise: Promise<T>; resolve(value: T): void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

let dir: { dir: string; remove(): void };
let store: SqliteExperimentStore;
let bus: EventBus;
const runtimes: TaskRuntime[] = [];
const stores: SqliteExperimentStore[] = [];

function runtime(options: TaskRuntimeOptions = {}, target = store): TaskRuntime {
  const created = new TaskRuntime({ tasks: target.tasks, bus, logger: new Logger(bus, () => undefined) }, { watchdogMs: 0, heartbeatMs: 20, progressEventMs: 0, ...options });
  runtimes.push(created);
  return created;
}

beforeEach(() => {
  dir = tempDataDir('tasks-runtime-');
  store = openSqliteStore({ dataDir: dir.dir });
  stores.push(store);
  bus = new EventBus();
});

afterEach(async () => {
  for (const r of runtimes.splice(0)) await r.close();
  for (const s of stores.splice(0)) await s.close();
  dir.remove();
});

describe('running a task inside another', () => {
  it('claims a queued task by id and runs it in the outer task\'s slot; the outer task\'s stop stops it; one claimed elsewhere is left alone', async () => {
    const r = runtime({ scope: 'own', lanes: { compute: 1 } });
    const inner = handler('evaluation', async ({ params, signal }) => {
      if (params.n === 2) {
        await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }));
        throw new StoppedEarly({ stoppedAt: 2 });
      }
      return { inner: params.n };
    });
    r.register(inner);
    const innerIds: number[] = [];
    const outcomes: Array<TaskRecord | null> = [];
    const outerStarted = deferred();
    r.register(
      handler('training', async ({ signal }) => {
        // The lane holds one compute task, and this one is it: the inner tasks run anyway, one after the other.
        for (const id of innerIds) {
          if (id === innerIds[2]) outerStarted.resolve();
          outcomes.push(await r.runWithin(id, signal));
        }
        return { ran: outcomes.length };
      }),
    );
    await r.start();
    innerIds.push((await store.tasks.create({ kind: 'evaluation', title: 'first', params: { n: 1 } })).id);
    const elsewhere = await store.tasks.create({ kind: 'evaluation', title: 'claimed elsewhere', params: { n: 3 } });
    await store.tasks.claimById(elsewhere.id, { host: 'other', pid: 1, worker: 'other' });
    innerIds.push(elsewhere.id);
    innerIds.push((await store.tasks.create({ kind: 'evaluation', title: 'stopped with the outer', params: { n: 2 } })).id);
    const outer = await r.submit({ kind: 'training', title: 'outer', params: { n: 0 } });
    await outerStarted.promise;
    await until(async () => (await store.tasks.get(innerIds[2]!))?.state === 'running');
    await r.stop(outer.id);
    const ended = await r.wait(outer.id);
    expect(ended).toMatchObject({ state: 'completed', result: { ran: 3 } });
    expect(outcomes[0]).toMatchObject({ id: innerIds[0], state: 'completed', result: { inner: 1 } });
    // Claimed by another process: not run here.
    expect(outcomes[1]).toBeNull();
    expect(outcomes[2]).toMatchObject({ id: innerIds[2], state: 'cancelled', result: { stoppedAt: 2 } });
    expect(inner.runs).toEqual([innerIds[0], innerIds[2]]);
    expect((await store.tasks.get(elsewhere.id))?.owner?.worker).toBe('other');
  });
});

async function until(probe: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 500 && !(await probe()); i++) await new Promise((resolve) => setTimeout(resolve, 10));
}

describe('the task runtime', () => {
  it('runs a submitted task to completion, storing its result, with progress that carries throughput and an ETA', async () => {
    const events: TaskProgressEvent[] = [];
    bus.attach((event, payload) => {
      if (event === 'task.progress') events.push(payload as TaskProgressEvent);
    });
    const r = runtime();
    r.register(
      handler('synthesis', async ({ params, progress }) => {
        for (let done = 1; done <= 4; done++) {
          await new Promise((resolve) => setTimeout(resolve, 15));
          progress({ stage: 'rendering', done, total: 4, unit: 'images' });
        }
        return { doubled: params.n * 2 };
      }),
    );
    await r.start();
    const task = await r.submit({ kind: 'synthesis', title: 'Shapes', params: { n: 21 } });
    const ended = await r.wait(task.id);
    expect(ended).toMatchObject({ state: 'completed', result: { doubled: 42 }, attempts: 1, error: null });
    expect(events.map((event) => event.progress.done)).toEqual([1, 2, 3, 4]);
    expect(events.every((event) => event.taskId === task.id && event.progress.unit === 'images')).toBe(true);
    expect(events.at(-1)!.progress.throughput).toBeGreaterThan(0);
    expect(events[1]!.progress.etaSeconds).toBeGreaterThan(0);
    expect(events.at(-1)!.progress.etaSeconds).toBe(0);
  });

  it('runs one compute task at a time by default: the next waits queued, with its place in line, then runs', async () => {
    const release = deferred();
    const r = runtime();
    const work = handler('training', async ({ task }) => {
      if (task.params.n === 1) await release.promise;
      return { n: task.params.n };
    });
    r.register(work);
    await r.start();
    const first = await r.submit({ kind: 'training', title: 'one', params: { n: 1 } });
    const second = await r.submit({ kind: 'training', title: 'two', params: { n: 2 } });
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect((await store.tasks.get(first.id))!.state).toBe('running');
    expect(await store.tasks.get(second.id)).toMatchObject({ state: 'queued', queuePosition: 0 });
    release.resolve();
    expect((await r.wait(second.id)).state).toBe('completed');
    expect(work.runs).toEqual([first.id, second.id]);
  });

  it('cancels a queued task without running it, and stops a running one through its signal', async () => {
    const release = deferred();
    const r = runtime();
    const work = handler('evaluation', async ({ signal }) => {
      await Promise.race([release.promise, new Promise((resolve) => signal.addEventListener('abort', resolve))]);
      if (signal.aborted) throw new ApiError('cancelled', 'stopped mid-way');
      return {};
    });
    r.register(work);
    await r.start();
    const running = await r.submit({ kind: 'evaluation', title: 'a', params: { n: 1 } });
    const queued = await r.submit({ kind: 'evaluation', title: 'b', params: { n: 2 } });
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(await r.stop(queued.id)).toBe(true);
    expect((await store.tasks.get(queued.id))!.state).toBe('cancelled');
    expect(await r.stop(running.id)).toBe(true);
    expect(await r.wait(running.id)).toMatchObject({ state: 'cancelled' });
    expect(work.runs).toEqual([running.id]);
  });

  it('learns of a stop requested by another process from its heartbeat', async () => {
    const r = runtime();
    r.register(handler('batch', async ({ signal }) => {
      await new Promise((resolve) => signal.addEventListener('abort', resolve));
      throw new StoppedEarly({ captioned: 3 }, 'stopped after 3 images');
    }));
    await r.start();
    const task = await r.submit({ kind: 'batch', title: 'folder', params: { n: 1 } });
    await new Promise((resolve) => setTimeout(resolve, 30));
    // Another process (the UI's, say) asks through the store alone.
    expect(await store.tasks.requestStop(task.id, 'stop from elsewhere')).toBe(true);
    expect(await r.wait(task.id)).toMatchObject({ state: 'cancelled', result: { captioned: 3 }, error: 'stopped after 3 images' });
  });

  it('records a failure with its message, a dead engine as crashed, and unreadable params as failed', async () => {
    const r = runtime({ lanes: { compute: 3 } });
    r.register(handler('training', async ({ params }) => {
      if (params.n === 1) throw new Error('dataset not found: /nope');
      throw new ApiError('engine_crashed', 'The engine process stopped (SIGKILL) while running training.run.');
    }));
    await r.start();
    const failed = await r.submit({ kind: 'training', title: 'f', params: { n: 1 } });
    const crashed = await r.submit({ kind: 'training', title: 'c', params: { n: 2 } });
    const malformed = await r.submit({ kind: 'training', title: 'm', params: { n: 'three' } });
    expect(await r.wait(failed.id)).toMatchObject({ state: 'failed', error: 'dataset not found: /nope' });
    expect(await r.wait(crashed.id)).toMatchObject({ state: 'crashed', error: expect.stringMatching(/SIGKILL/) });
    expect(await r.wait(malformed.id)).toMatchObject({ state: 'failed', error: 'params.n must be a number' });
  });

  it('leaves the rest of the queue alone when it only runs its own tasks', async () => {
    const other = runtime({ execute: false });
    const queuedElsewhere = await other.submit({ kind: 'synthesis', title: 'not mine', params: { n: 1 } });
    const r = runtime({ scope: 'own' });
    const work = handler('synthesis', async () => ({}));
    r.register(work);
    await r.start();
    const mine = await r.submit({ kind: 'synthesis', title: 'mine', params: { n: 2 } });
    expect((await r.wait(mine.id)).state).toBe('completed');
    expect(work.runs).toEqual([mine.id]);
    expect((await store.tasks.get(queuedElsewhere.id))!.state).toBe('queued');
  });

  it('never claims a task queued for the workers, which a worker runtime runs', async () => {
    const forWorkers = await store.tasks.create({ kind: 'import', title: 'for the workers', params: { n: 1 }, placement: 'workers' });
    const forAnyone = await store.tasks.create({ kind: 'import', title: 'for anyone', params: { n: 2 } });
    const workbench = runtime({ pollMs: 5 });
    const here = handler('import', async () => ({}));
    workbench.register(here);
    await workbench.start();
    expect((await workbench.wait(forAnyone.id, { pollMs: 5 })).state).toBe('completed');
    // Polled and woken again after its task ended: the workers' task is still left alone.
    workbench.wake();
    await workbench.close();
    expect(here.runs).toEqual([forAnyone.id]);
    expect((await store.tasks.get(forWorkers.id))!.state).toBe('queued');

    const worker = runtime({ placements: ['any', 'workers'], owner: { host: 'gpu-box', pid: 77, worker: 'box-gpu0' } });
    const there = handler('import', async () => ({}));
    worker.register(there);
    await worker.start();
    expect(await worker.wait(forWorkers.id, { pollMs: 5 })).toMatchObject({ state: 'completed', placement: 'workers', owner: { host: 'gpu-box', worker: 'box-gpu0' } });
    expect(there.runs).toEqual([forWorkers.id]);
  });

  it('keeps a crashed task’s placement when its crash rule queues it again or retries it', async () => {
    const deadOwner = { host: (await import('node:os')).hostname(), pid: 2 ** 22 + 23456, worker: 'gone' };
    const make = async (kind: TaskKind, n: number) => {
      const task = await store.tasks.create({ kind, title: `${kind} ${n}`, params: { n }, placement: 'workers' });
      await store.tasks.claimById(task.id, deadOwner);
      return task;
    };
    const batch = await make('batch', 1);
    const trial = await make('trial', 2);
    const workbench = runtime({ lanes: { compute: 2 } });
    const batchWork = handler('batch', async () => ({}), 'resume');
    const trialWork = handler('trial', async () => ({}), 'retry-once');
    workbench.register(batchWork);
    workbench.register(trialWork);
    await workbench.start();
    const retry = (await store.tasks.list({ kinds: ['trial'] })).find((task) => task.retryOf === trial.id)!;
    expect(retry).toMatchObject({ state: 'queued', placement: 'workers' });
    expect(await store.tasks.get(batch.id)).toMatchObject({ state: 'queued', placement: 'workers', attempts: 1 });
    workbench.wake();
    await workbench.close();
    expect(batchWork.runs).toEqual([]);
    expect(trialWork.runs).toEqual([]);
  });

  it('shares one queue between processes: every task runs exactly once', async () => {
    const second = openSqliteStore({ dataDir: dir.dir });
    stores.push(second);
    const seen: number[] = [];
    const body: Body = async ({ task }) => {
      seen.push(task.id);
      await new Promise((resolve) => setTimeout(resolve, 5));
      return {};
    };
    const a = runtime({ lanes: { io: 2 }, pollMs: 10 });
    const b = runtime({ lanes: { io: 2 }, pollMs: 10, owner: { host: 'other-host', pid: 4242, worker: 'w2' } }, second);
    a.register(handler('import', body));
    b.register(handler('import', body));
    const submitted: TaskRecord[] = [];
    for (let n = 0; n < 16; n++) submitted.push(await store.tasks.create({ kind: 'import', title: `t${n}`, params: { n } }));
    await Promise.all([a.start(), b.start()]);
    const ended = await Promise.all(submitted.map((task) => a.wait(task.id, { pollMs: 10 })));
    expect(ended.every((task) => task.state === 'completed')).toBe(true);
    expect([...seen].sort((x, y) => x - y)).toEqual(submitted.map((task) => task.id));
    expect(new Set(ended.map((task) => task.owner!.worker)).size).toBeGreaterThan(0);
  });

  it('crashes tasks whose owner died and applies each kind’s crash rule: resume, retry once, or leave', async () => {
    const deadOwner = { host: (await import('node:os')).hostname(), pid: 2 ** 22 + 12345, worker: 'gone' };
    const make = async (kind: TaskKind, n: number) => {
      const task = await store.tasks.create({ kind, title: `${kind} ${n}`, params: { n } });
      await store.tasks.claimById(task.id, deadOwner);
      return task;
    };
    const batch = await make('batch', 1);
    const trial = await make('trial', 2);
    const evaluation = await make('evaluation', 3);
    const r = runtime({ lanes: { compute: 3 } });
    const batchWork = handler('batch', async () => ({ resumed: true }), 'resume');
    const trialWork = handler('trial', async () => ({ retried: true }), 'retry-once');
    const evalWork = handler('evaluation', async () => ({}), 'none');
    r.register(batchWork);
    r.register(trialWork);
    r.register(evalWork);
    await r.start();
    expect(await r.wait(batch.id)).toMatchObject({ state: 'completed', attempts: 2, result: { resumed: true } });
    const retry = (await store.tasks.list({ kinds: ['trial'] })).find((task) => task.retryOf === trial.id)!;
    expect(retry).toBeDefined();
    expect(await r.wait(retry.id)).toMatchObject({ state: 'completed', params: { n: 2 } });
    expect(await store.tasks.get(trial.id)).toMatchObject({ state: 'crashed', error: expect.stringMatching(/process \d+ no longer exists/) });
    expect(await store.tasks.get(evaluation.id)).toMatchObject({ state: 'crashed' });
    expect(evalWork.runs).toEqual([]);
  });

  it('follows a task elsewhere through a crash its crash rule queues again, and stops at a crash nobody queues again', async () => {
    const deadOwner = { host: (await import('node:os')).hostname(), pid: 2 ** 22 + 34567, worker: 'gone' };
    const survivor = { host: 'other-host', pid: 4243, worker: 'w2' };
    const follower = runtime({ execute: false, requeueGraceMs: 2_000 });
    follower.register(handler('batch', async () => ({}), 'resume'));
    const job = await store.tasks.create({ kind: 'batch', title: 'job', params: { n: 1 } });
    await store.tasks.claimById(job.id, deadOwner);
    const requeued: TaskRecord[] = [];
    const following = follower.wait(job.id, { pollMs: 10, onRequeued: (crashed) => requeued.push(crashed) });
    // Another process finds the owner dead, marks the task crashed, and only later applies the crash rule.
    expect((await store.tasks.recoverStale({ staleAfterMs: 60_000 })).map((task) => task.id)).toEqual([job.id]);
    await new Promise((resolve) => setTimeout(resolve, 300));
    await store.tasks.resume(job.id);
    await store.tasks.claimById(job.id, survivor);
    await store.tasks.finish(job.id, survivor, { state: 'completed', result: { done: true } });
    expect(await following).toMatchObject({ state: 'completed', attempts: 2, result: { done: true } });
    expect(requeued).toEqual([expect.objectContaining({ state: 'crashed', error: expect.stringMatching(/no longer exists/) })]);

    const orphan = await store.tasks.create({ kind: 'batch', title: 'orphan', params: { n: 2 } });
    await store.tasks.claimById(orphan.id, deadOwner);
    await store.tasks.recoverStale({ staleAfterMs: 60_000 });
    const started = Date.now();
    expect(await follower.wait(orphan.id, { pollMs: 10 })).toMatchObject({ state: 'crashed' });
    expect(Date.now() - started).toBeGreaterThanOrEqual(2_000);
  });

  it('retries a crashed retry no further', async () => {
    const deadOwner = { host: (await import('node:os')).hostname(), pid: 2 ** 22 + 54321, worker: 'gone' };
    const original = await store.tasks.create({ kind: 'trial', title: 'trial', params: { n: 1 } });
    const retry = await store.tasks.create({ kind: 'trial', title: 'trial', params: { n: 1 }, retryOf: original.id });
    await store.tasks.claimById(retry.id, deadOwner);
    const r = runtime();
    r.register(handler('trial', async () => ({}), 'retry-once'));
    const crashed = await r.recover();
    expect(crashed.map((task) => task.id)).toEqual([retry.id]);
    expect((await store.tasks.list({ kinds: ['trial'] })).filter((task) => task.retryOf === retry.id)).toEqual([]);
  });

  it('on close, stops what runs here so it can resume later', async () => {
    const r = runtime();
    r.register(handler('training', async ({ signal }) => {
      await new Promise((resolve) => signal.addEventListener('abort', resolve));
      throw new StoppedEarly({ epoch: 2 });
    }));
    await r.start();
    const task = await r.submit({ kind: 'training', title: 'long', params: { n: 1 } });
    await new Promise((resolve) => setTimeout(resolve, 30));
    await r.close();
    expect(await store.tasks.get(task.id)).toMatchObject({ state: 'cancelled', result: { epoch: 2 } });
  });

  it('gives up a task another process took away, without overwriting what was recorded since', async () => {
    const r = runtime({ heartbeatMs: 10 });
    const started = deferred();
    r.register(handler('batch', async ({ signal }) => {
      started.resolve();
      await new Promise((resolve) => signal.addEventListener('abort', resolve));
      return { late: true };
    }));
    await r.start();
    const task = await r.submit({ kind: 'batch', title: 'x', params: { n: 1 } });
    await started.promise;
    // Another process decides this one is gone (as with a frozen process on a network store).
    const taken = await store.tasks.recoverStale({ staleAfterMs: 0, now: Date.now() + 60_000 });
    expect(taken.map((t) => t.id)).toEqual([task.id]);
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(r.runningHere()).toEqual([]);
    expect(await store.tasks.get(task.id)).toMatchObject({ state: 'crashed', result: null });
  });
});
