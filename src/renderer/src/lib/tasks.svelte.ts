/**
 * Live state of every task (training, evaluation, synthesis, import, batch,
 * tuning), fed by `task.updated` and `task.progress`, so any page can show a
 * task's progress and stop button by its id, and the Jobs drawer can list
 * them all.
 */
import type { TaskProgress, TaskRecord } from '../../../shared/taskTypes';
import { api } from './api';

const FINAL = new Set(['completed', 'failed', 'cancelled', 'crashed']);

export function isFinished(task: TaskRecord | undefined | null): boolean {
  return !!task && FINAL.has(task.state);
}

class Tasks {
  byId = $state<Record<number, TaskRecord>>({});
  private endListeners = new Map<number, Array<(task: TaskRecord) => void>>();

  constructor() {
    api.onTaskUpdated((task) => this.put(task));
    api.onTaskProgress((update) => {
      const task = this.byId[update.taskId];
      if (task) task.progress = update.progress;
      else void this.refresh(update.taskId);
    });
    void this.load();
  }

  /** Newest first. */
  get list(): TaskRecord[] {
    return Object.values(this.byId).sort((a, b) => b.id - a.id);
  }

  get active(): TaskRecord[] {
    return this.list.filter((task) => !isFinished(task));
  }

  progressOf(taskId: number): TaskProgress | null {
    return this.byId[taskId]?.progress ?? null;
  }

  /** Resolves with the task once it has ended (at once if it already has). */
  whenFinished(taskId: number): Promise<TaskRecord> {
    const known = this.byId[taskId];
    if (known && isFinished(known)) return Promise.resolve(known);
    if (!known) void this.refresh(taskId);
    return new Promise((resolve) => {
      const list = this.endListeners.get(taskId) ?? [];
      list.push(resolve);
      this.endListeners.set(taskId, list);
    });
  }

  async load(): Promise<void> {
    try {
      // The most the API gives: a large batch job alone brings a few hundred shard tasks.
      for (const task of await api.tasks.list({ limit: 1000 })) this.put(task);
    } catch {
      // The drawer shows what events bring; a failed first load is not fatal.
    }
  }

  private async refresh(taskId: number): Promise<void> {
    try {
      this.put(await api.tasks.get({ taskId }));
    } catch {
      // Deleted or never visible here.
    }
  }

  private put(task: TaskRecord): void {
    const previous = this.byId[task.id];
    // A progress event may be newer than the row's stored progress.
    this.byId[task.id] = { ...task, progress: task.state === 'running' && previous?.progress && !task.progress ? previous.progress : task.progress };
    if (isFinished(task)) {
      for (const listener of this.endListeners.get(task.id) ?? []) listener(task);
      this.endListeners.delete(task.id);
    }
  }
}

export const tasks = new Tasks();
