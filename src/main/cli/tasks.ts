/**
 * Following a task from the command line: queue it, show its progress, and
 * answer its result once it ends, wherever it ran. Ctrl-C becomes a stop
 * request, so the task finishes its step and saves (a second Ctrl-C quits at
 * once). The exit code says whether the task completed.
 */
import type { TaskProgress, TaskRecord } from '../../shared/taskTypes';
import { CliError, type CliContext } from './context';
import { progressPrinter } from './progress';

export interface FollowOptions {
  showProgress: boolean;
  onProgress?: (progress: TaskProgress) => void;
}

export async function followTask<T>(cli: CliContext, start: () => Promise<{ taskId: number }>, options: FollowOptions): Promise<T> {
  const { bus, tasks } = cli.workbench.services;
  const printer = progressPrinter(options.showProgress);
  let taskId: number | null = null;
  const detach = bus.attach((event, payload) => {
    if (event !== 'task.progress') return;
    const update = payload as { taskId: number; progress: TaskProgress };
    if (update.taskId !== taskId) return;
    printer.update(update.progress);
    options.onProgress?.(update.progress);
  });
  let interrupted = false;
  const onSigint = () => {
    if (interrupted || taskId === null) process.exit(130);
    interrupted = true;
    printer.done();
    process.stderr.write('\nStopping after the current step… (Ctrl-C again to quit at once)\n');
    void tasks.stop(taskId).catch(() => undefined);
  };
  process.on('SIGINT', onSigint);
  try {
    taskId = (await start()).taskId;
    const ended: TaskRecord = await tasks.wait(taskId);
    printer.done();
    if (ended.state === 'completed') return ended.result as T;
    if (ended.state === 'cancelled') throw new CliError(`Stopped: ${ended.title} (task ${ended.id}).`, 130);
    throw new CliError(`${ended.title} ${ended.state}: ${ended.error ?? 'no reason recorded'} (task ${ended.id}).`);
  } finally {
    printer.done();
    process.off('SIGINT', onSigint);
    detach();
  }
}
