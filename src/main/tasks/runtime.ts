/**
 * The task runtime: one implementation of claiming, heartbeats, progress,
 * stopping, crash recovery and resumption for every kind of long work.
 *
 * Work waits as `queued` rows in the store. This process claims the ones it
 * has a handler for (a compare-and-set in the store, so other processes and
 * machines sharing the store can claim from the same queue), runs them,
 * heartbeats while they run, and records how they ended. A stop request from
 * anywhere reaches the task through its heartbeat (or at once when it runs
 * here); a process that dies leaves its tasks to go stale, and whoever
 * recovers them applies the kind's crash rule.
 */
import { hostname } from 'node:os';
import { ApiError } from '../../shared/errors';
import { isFinalTaskState, type TaskKind, type TaskOwner, type TaskPlacement, type TaskProgress, type TaskRecord } from '../../shared/taskTypes';
import type { EventBus } from '../core/eventBus';
import type { Logger } from '../core/logger';
import type { NewTask, TaskStore } from '../store/storage';
import { plainJson } from '../store/json';
import { CrashSettling } from './crashSettling';
import { ProgressMeter } from './progressMeter';
import { StoppedEarly, type TaskContext, type TaskHandler } from './types';

/** Kinds that compete for the same resource share a lane; each lane runs a limited number at once. */
export type Lane = 'compute' | 'io' | 'control';

const LANE_OF: Record<TaskKind, Lane> = {
  training: 'compute',
  trial: 'compute',
  evaluation: 'compute',
  batch: 'compute',
  synthesis: 'io',
  import: 'io',
  // A study only coordinates its trials; it never competes with them.
  study: 'control',
};

export interface TaskRuntimeOptions {
  owner?: TaskOwner;
  /** Tasks run at once per lane in this process. */
  lanes?: Partial<Record<Lane, number>>;
  /** Claim only these kinds (a worker's `--kinds`); default every registered kind. */
  kinds?: readonly TaskKind[];
  /**
   * `queue` (the app, serve mode, workers): run any queued task of a
   * registered kind. `own` (a one-shot command): run only the tasks this
   * process queued or resumed, leaving the rest of the queue to others.
   */
  scope?: 'queue' | 'own';
  /**
   * Which queued tasks a `queue`-scoped runtime claims by placement: `any`
   * only (default: the app and serve mode never take work a user queued for
   * the workers), or `any` and `workers` (a `captioner worker`).
   */
  placements?: readonly TaskPlacement[];
  /** false: this process only submits and follows tasks (they run elsewhere). */
  execute?: boolean;
  heartbeatMs?: number;
  /** A running task silent this long is crashed by whoever recovers it. */
  staleAfterMs?: number;
  /** How often to look for stale tasks; 0 turns the watchdog off. */
  watchdogMs?: number;
  /** How often to look for queued work that other processes added; 0 turns polling off. */
  pollMs?: number;
  /** Progress events at most this often per task. */
  progressEventMs?: number;
  /** How long a follower waits for a crashed task's crash rule to queue it again before it takes the crash as the end. */
  requeueGraceMs?: number;
}

export interface TaskRuntimeDeps {
  tasks: TaskStore;
  bus: EventBus;
  logger: Logger;
}

interface RunningTask {
  task: TaskRecord;
  controller: AbortController;
  done: Promise<TaskRecord | null>;
}

const DEFAULT_LANES: Record<Lane, number> = { compute: 1, io: 2, control: 8 };

/**
 * A kind that resumes after a crash is queued again at most this many times
 * in a row by itself; past that (an image that kills the decoder every time,
 * say) it waits for the user.
 */
const MAX_AUTOMATIC_ATTEMPTS = 3;

export function defaultOwner(worker = 'workbench'): TaskOwner {
  return { host: hostname(), pid: process.pid, worker };
}

export class TaskRuntime {
  readonly owner: TaskOwner;
  private readonly handlers = new Map<TaskKind, TaskHandler<unknown, object>>();
  private readonly running = new Map<number, RunningTask>();
  private readonly lanes: Record<Lane, number>;
  private readonly options: Required<Omit<TaskRuntimeOptions, 'owner' | 'lanes' | 'kinds'>> & { kinds: readonly TaskKind[] | null };
  /** Tasks this process queued or resumed (what an `own`-scoped runtime runs). */
  private readonly mine = new Set<number>();
  private claiming: Promise<void> | null = null;
  private wakeAgain = false;
  private closed = false;
  private timers: NodeJS.Timeout[] = [];

  constructor(
    private readonly deps: TaskRuntimeDeps,
    options: TaskRuntimeOptions = {},
  ) {
    this.owner = options.owner ?? defaultOwner();
    this.lanes = { ...DEFAULT_LANES, ...options.lanes };
    this.options = {
      kinds: options.kinds ?? null,
      scope: options.scope ?? 'queue',
      placements: options.placements ?? ['any'],
      execute: options.execute ?? true,
      heartbeatMs: options.heartbeatMs ?? 2_000,
      staleAfterMs: options.staleAfterMs ?? 60_000,
      watchdogMs: options.watchdogMs ?? 15_000,
      pollMs: options.pollMs ?? 0,
      progressEventMs: options.progressEventMs ?? 250,
      requeueGraceMs: options.requeueGraceMs ?? 30_000,
    };
  }

  register<P, R extends object>(handler: TaskHandler<P, R>): void {
    if (this.handlers.has(handler.kind)) throw new Error(`A handler for ${handler.kind} tasks is already registered.`);
    this.handlers.set(handler.kind, handler as unknown as TaskHandler<unknown, object>);
  }

  /** Recovers what earlier processes left running, then starts claiming work. */
  async start(): Promise<void> {
    await this.recover();
    if (this.options.watchdogMs > 0) {
      this.timers.push(setInterval(() => void this.recover().catch((error: unknown) => this.deps.logger.warn(`Task recovery failed: ${message(error)}`)), this.options.watchdogMs));
    }
    if (this.options.execute && this.options.pollMs > 0) this.timers.push(setInterval(() => this.wake(), this.options.pollMs));
    for (const timer of this.timers) timer.unref();
    this.wake();
  }

  /** Queues a task; this process runs it when a slot in its lane is free (unless another process claims it first). */
  async submit(input: NewTask): Promise<TaskRecord> {
    if (!this.handlers.has(input.kind) && this.options.execute) throw new ApiError('invalid_request', `No handler for ${input.kind} tasks in this process.`);
    const task = await this.deps.tasks.create(input);
    this.adopt(task.id, task.placement);
    return task;
  }

  /**
   * Takes a task queued elsewhere in this process (e.g. with its run, in one
   * transaction) as this process's own to run, unless it was queued for the
   * workers and this process is not one: then it only waits for them.
   */
  adopt(taskId: number, placement: TaskPlacement = 'any'): void {
    if (!this.options.placements.includes(placement)) return;
    // Only an `own`-scoped runtime reads the set; a queue-scoped one takes every queued task anyway.
    if (this.options.scope === 'own') this.mine.add(taskId);
    this.wake();
  }

  /** Gives a queued task to the workers, or back to anyone (this process included). */
  async place(taskId: number, placement: TaskPlacement): Promise<TaskRecord> {
    const task = await this.deps.tasks.place(taskId, placement);
    this.adopt(task.id, task.placement);
    return task;
  }

  /** Asks a task to stop: a queued one is cancelled at once, a running one finishes its step and saves. */
  async stop(taskId: number, reason = 'stopped by the user'): Promise<boolean> {
    const changed = await this.deps.tasks.requestStop(taskId, reason);
    // Running here: no need to wait for the next heartbeat.
    this.running.get(taskId)?.controller.abort(new ApiError('cancelled', reason));
    return changed;
  }

  /** Queues a failed, cancelled or crashed task again, on the same row (with another placement when given). */
  async resume(taskId: number, options: { placement?: TaskPlacement } = {}): Promise<TaskRecord> {
    const task = await this.deps.tasks.resume(taskId, options);
    this.adopt(task.id, task.placement);
    return task;
  }

  /**
   * Resolves with the task once it has ended, wherever it runs. A crash that
   * its crash rule queues again is not an end: `onRequeued` hears of it and
   * the wait goes on.
   */
  async wait(taskId: number, options: { signal?: AbortSignal; pollMs?: number; onRequeued?: (crashed: TaskRecord) => void } = {}): Promise<TaskRecord> {
    const settling = this.crashSettling();
    for (;;) {
      // Running here: its end, and its kind's crash rule, settle before `done` does.
      const here = this.running.get(taskId);
      if (here) await here.done;
      const task = await this.deps.tasks.get(taskId);
      if (!task) throw new ApiError('not_found', `No task with id ${taskId}.`);
      const look = settling.look(task);
      if (look.requeued) options.onRequeued?.(look.requeued);
      if (look.ended) return task;
      if (options.signal?.aborted) throw new ApiError('cancelled', `Stopped waiting for task ${taskId}.`);
      if (!this.running.has(taskId)) await sleep(options.pollMs ?? 500, options.signal);
    }
  }

  /** Whether this crashed task's crash rule queues it again by itself. */
  willRequeue(task: TaskRecord): boolean {
    return task.state === 'crashed' && this.handlers.get(task.kind)?.onCrash === 'resume' && task.attempts < MAX_AUTOMATIC_ATTEMPTS;
  }

  /** For a follower polling a task: tells a crash that ends it from one its crash rule is about to queue again. */
  crashSettling(): CrashSettling {
    return new CrashSettling((task) => this.willRequeue(task), this.options.requeueGraceMs);
  }

  /**
   * Claims a queued task by id and runs it here inside the slot of a task
   * already running here (a batch job runs its own shards while it holds its
   * lane), with the same heartbeats, progress, outcome and crash rule as any
   * task. `signal` (the outer task's) stops it too. Answers how it ended, or
   * null when another process claimed it first (or this one only submits).
   */
  async runWithin(taskId: number, signal: AbortSignal): Promise<TaskRecord | null> {
    if (!this.options.execute || this.closed || signal.aborted || this.running.has(taskId)) return null;
    const claimed = await this.deps.tasks.claimById(taskId, this.owner);
    if (!claimed) return null;
    if (!this.handlers.has(claimed.kind)) {
      await this.deps.tasks.finish(claimed.id, this.owner, { state: 'failed', error: `No handler for ${claimed.kind} tasks in this process.` });
      return null;
    }
    this.run(claimed);
    const entry = this.running.get(claimed.id)!;
    const stop = () => entry.controller.abort(signal.reason);
    signal.addEventListener('abort', stop, { once: true });
    try {
      return await entry.done;
    } finally {
      signal.removeEventListener('abort', stop);
    }
  }

  /** Tasks running in this process. */
  runningHere(): TaskRecord[] {
    return [...this.running.values()].map((running) => running.task);
  }

  setLaneLimit(lane: Lane, limit: number): void {
    this.lanes[lane] = Math.max(1, Math.floor(limit));
    this.wake();
  }

  /** Claims queued work while there is a free slot; safe to call any time, any number of times. */
  wake(): void {
    if (!this.options.execute || this.closed) return;
    if (this.claiming) {
      this.wakeAgain = true;
      return;
    }
    this.claiming = this.claimWhileFree()
      .catch((error: unknown) => this.deps.logger.error(`Could not claim queued tasks: ${message(error)}`))
      .finally(() => {
        this.claiming = null;
        if (this.wakeAgain) {
          this.wakeAgain = false;
          this.wake();
        }
      });
  }

  /**
   * Crashes the tasks that went silent and applies each kind's crash rule:
   * queue it again (resume), queue a copy once (retry), or leave it for the user.
   */
  async recover(): Promise<TaskRecord[]> {
    const crashed = await this.deps.tasks.recoverStale({ staleAfterMs: this.options.staleAfterMs });
    for (const task of crashed) await this.applyCrashRule(task);
    if (crashed.length > 0) this.wake();
    return crashed;
  }

  /** Stops claiming, asks every task running here to stop, and waits for them to save and end. */
  async close(): Promise<void> {
    this.closed = true;
    for (const timer of this.timers) clearInterval(timer);
    this.timers = [];
    await this.claiming;
    for (const running of this.running.values()) running.controller.abort(new ApiError('cancelled', 'The workbench is shutting down.'));
    await Promise.allSettled([...this.running.values()].map((running) => running.done));
  }

  private async applyCrashRule(task: TaskRecord): Promise<void> {
    const handler = this.handlers.get(task.kind);
    const rule = handler?.onCrash;
    const { logger, tasks } = this.deps;
    logger.warn(`Task ${task.id} (${task.title}) crashed: ${task.error ?? 'no reason recorded'}.`);
    try {
      await handler?.recovered?.(task);
      if (this.willRequeue(task)) {
        await tasks.resume(task.id);
        logger.info(`Task ${task.id} queued again; it continues where it stopped.`);
      } else if (rule === 'retry-once' && task.retryOf === null) {
        const retry = await tasks.create({
          kind: task.kind,
          title: task.title,
          params: task.params,
          subject: task.subject,
          parentId: task.parentId,
          retryOf: task.id,
          placement: task.placement,
        });
        logger.info(`Task ${task.id} will be retried once as task ${retry.id}.`);
      }
    } catch (error) {
      logger.error(`Could not apply the crash rule of task ${task.id}: ${message(error)}`);
    }
  }

  private claimableKinds(): TaskKind[] {
    const busy: Record<Lane, number> = { compute: 0, io: 0, control: 0 };
    for (const running of this.running.values()) busy[LANE_OF[running.task.kind]] += 1;
    return [...this.handlers.keys()].filter(
      (kind) => (this.options.kinds === null || this.options.kinds.includes(kind)) && busy[LANE_OF[kind]] < this.lanes[LANE_OF[kind]],
    );
  }

  private async claimWhileFree(): Promise<void> {
    if (this.options.scope === 'own') return this.claimOwn();
    while (!this.closed) {
      const kinds = this.claimableKinds();
      if (kinds.length === 0) return;
      const task = await this.deps.tasks.claim(this.owner, kinds, { placements: this.options.placements });
      if (!task) return;
      this.run(task);
    }
  }

  /** Claims this process's own queued tasks, oldest first, while their lanes have room. */
  private async claimOwn(): Promise<void> {
    for (const taskId of [...this.mine].sort((a, b) => a - b)) {
      if (this.closed) return;
      if (this.running.has(taskId)) continue;
      const task = await this.deps.tasks.get(taskId);
      if (!task || task.state !== 'queued') {
        if (task && isFinalTaskState(task.state)) this.mine.delete(taskId);
        continue;
      }
      if (!this.claimableKinds().includes(task.kind)) continue;
      const claimed = await this.deps.tasks.claimById(taskId, this.owner);
      if (claimed) this.run(claimed);
    }
  }

  private run(task: TaskRecord): void {
    const handler = this.handlers.get(task.kind)!;
    const controller = new AbortController();
    const entry: RunningTask = { task, controller, done: Promise.resolve(null) };
    this.running.set(task.id, entry);
    entry.done = this.execute(entry, handler).finally(() => {
      this.running.delete(task.id);
      this.wake();
    });
  }

  private async execute(entry: RunningTask, handler: TaskHandler<unknown, object>): Promise<TaskRecord | null> {
    const { task, controller } = entry;
    const { tasks, bus, logger } = this.deps;
    const meter = new ProgressMeter();
    let latest: TaskProgress | null = null;
    let lastEventAt = 0;
    let lost = false;

    const beat = async () => {
      try {
        const answer = await tasks.heartbeat(task.id, this.owner, latest);
        if (answer.stopRequested && !controller.signal.aborted) controller.abort(new ApiError('cancelled', 'A stop was requested.'));
      } catch (error) {
        if (error instanceof ApiError && error.code === 'conflict') {
          // Someone decided this process was gone (stale heartbeat) and took the task away.
          lost = true;
          controller.abort(new ApiError('cancelled', `Task ${task.id} was taken away from this process: ${error.message}`));
        } else {
          logger.warn(`Heartbeat of task ${task.id} failed: ${message(error)}`);
        }
      }
    };
    const heartbeat = setInterval(() => void beat(), this.options.heartbeatMs);
    heartbeat.unref();

    const context: TaskContext<unknown> = {
      task,
      params: undefined,
      signal: controller.signal,
      progress: (update) => {
        latest = meter.measure(update);
        const now = Date.now();
        if (now - lastEventAt >= this.options.progressEventMs || (update.total !== null && update.done >= update.total)) {
          lastEventAt = now;
          bus.emit('task.progress', { taskId: task.id, kind: task.kind, subject: task.subject, progress: latest });
        }
      },
    };

    let end: Parameters<TaskStore['finish']>[2];
    try {
      (context as { params: unknown }).params = handler.parse(task.params);
      const result = await handler.run(context);
      end = { state: 'completed', result: plainJson(result) };
    } catch (error) {
      end = outcomeOf(error, controller.signal);
    } finally {
      clearInterval(heartbeat);
    }
    if (lost) {
      logger.warn(`Task ${task.id} ended here after another process had marked it ${end.state === 'completed' ? 'crashed' : 'gone'}; its outcome is not recorded.`);
      return null;
    }
    try {
      const finished = await tasks.finish(task.id, this.owner, end);
      logger.info(`Task ${task.id} (${task.title}) ${finished.state}${finished.error ? `: ${finished.error}` : ''}.`);
      // Its worker process died under it: the same rule as for a task found stale.
      if (finished.state === 'crashed') await this.applyCrashRule(finished);
      return finished;
    } catch (error) {
      logger.error(`Could not record how task ${task.id} ended (${end.state}): ${message(error)}`);
      return null;
    }
  }
}

/** How a task that threw ended: stopped on request, crashed with its engine, or failed. */
function outcomeOf(error: unknown, signal: AbortSignal): Parameters<TaskStore['finish']>[2] {
  if (error instanceof StoppedEarly) return { state: 'cancelled', result: error.result, error: error.message };
  if (error instanceof ApiError && error.code === 'engine_crashed') return { state: 'crashed', error: error.message };
  if ((error instanceof ApiError && error.code === 'cancelled') || signal.aborted) {
    return { state: 'cancelled', error: signal.aborted && signal.reason instanceof Error ? signal.reason.message : message(error) };
  }
  return { state: 'failed', error: message(error) };
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(timer);
      resolve();
    }, { once: true });
  });
}
