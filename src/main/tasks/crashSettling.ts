/**
 * Whether a task a follower sees crashed has ended. A kind whose crash rule
 * is `resume` is queued again by whoever marked it crashed, a moment later
 * (two writes, and the recovering process may be slow or on another
 * machine), so a follower that looks in between must not report the crash
 * as the end. It waits for the requeue, up to a grace: past it the
 * recovering process is taken to have died between the two writes, and the
 * crash stands (the user resumes the task).
 */
import { isFinalTaskState, type TaskRecord } from '../../shared/taskTypes';

export interface CrashLook {
  /** The task has ended (completed, failed, cancelled, or crashed for good). */
  ended: boolean;
  /** The crash seen earlier that its crash rule has since queued again; report it once. */
  requeued: TaskRecord | null;
}

export class CrashSettling {
  /** The crash being waited on: its record and when it was first seen. */
  private pending: { task: TaskRecord; since: number } | null = null;

  constructor(
    /** Whether this crashed task's crash rule queues it again by itself. */
    private readonly willRequeue: (task: TaskRecord) => boolean,
    private readonly graceMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Looks at the task's latest record; call it on every poll. */
  look(task: TaskRecord): CrashLook {
    const previous = this.pending;
    // A crash with another attempt count is a new crash: the earlier one was queued again and run in between.
    const sameCrash = previous !== null && task.state === 'crashed' && task.attempts === previous.task.attempts;
    const requeued = previous !== null && !sameCrash ? previous.task : null;
    if (task.state === 'crashed' && this.willRequeue(task)) {
      this.pending = sameCrash ? previous : { task, since: this.now() };
      return { ended: this.now() - this.pending!.since >= this.graceMs, requeued };
    }
    this.pending = null;
    return { ended: isFinalTaskState(task.state), requeued };
  }
}
