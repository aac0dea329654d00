/** A follower's view of a crash: the end of a task, or a moment before its crash rule queues it again. */
import { describe, expect, it } from 'vitest';
import { CrashSettling } from '../../src/main/tasks/crashSettling';
import type { TaskRecord, TaskState } from '../../src/shared/taskTypes';

function record(state: TaskState, attempts: number, kind: TaskRecord['kind'] = 'batch'): TaskRecord {
  return { id: 7, kind, state, attempts, error: state === 'crashed' ? `crash ${attempts}` : null } as TaskRecord;
}

function settlingAt(graceMs: number) {
  let now = 1_000;
  const settling = new CrashSettling((task) => task.kind === 'batch' && task.attempts < 3, graceMs, () => now);
  return { settling, advance: (ms: number) => (now += ms) };
}

describe('a crash seen by a follower', () => {
  it('is not the end while the crash rule may still queue the task again; the requeue is reported once', () => {
    const { settling, advance } = settlingAt(5_000);
    expect(settling.look(record('running', 1))).toEqual({ ended: false, requeued: null });
    expect(settling.look(record('crashed', 1))).toEqual({ ended: false, requeued: null });
    advance(4_000);
    expect(settling.look(record('crashed', 1))).toEqual({ ended: false, requeued: null });
    const queued = settling.look(record('queued', 1));
    expect(queued.ended).toBe(false);
    expect(queued.requeued).toMatchObject({ state: 'crashed', error: 'crash 1' });
    expect(settling.look(record('running', 2))).toEqual({ ended: false, requeued: null });
    expect(settling.look(record('completed', 2))).toEqual({ ended: true, requeued: null });
  });

  it('ends the wait when nobody queues the task again within the grace', () => {
    const { settling, advance } = settlingAt(5_000);
    expect(settling.look(record('crashed', 1)).ended).toBe(false);
    advance(4_999);
    expect(settling.look(record('crashed', 1)).ended).toBe(false);
    advance(1);
    expect(settling.look(record('crashed', 1)).ended).toBe(true);
  });

  it('tells a second crash from the first by its attempts: the first was queued again in between', () => {
    const { settling, advance } = settlingAt(5_000);
    settling.look(record('crashed', 1));
    advance(4_000);
    const second = settling.look(record('crashed', 2));
    expect(second.requeued).toMatchObject({ attempts: 1 });
    // The grace starts again with the second crash.
    advance(4_000);
    expect(second.ended).toBe(false);
    expect(settling.look(record('crashed', 2)).ended).toBe(false);
  });

  it('takes a crash as the end at once when the crash rule leaves it to the user, or the attempts are spent', () => {
    const { settling } = settlingAt(5_000);
    expect(settling.look(record('crashed', 1, 'training'))).toEqual({ ended: true, requeued: null });
    expect(settling.look(record('crashed', 3))).toEqual({ ended: true, requeued: null });
  });
});
