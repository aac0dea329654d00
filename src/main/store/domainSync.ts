/**
 * Keeps a run's, batch job's, study's or trial's status in step with its
 * task, inside the transaction that moved the task.
 *
 * Why a copy written here rather than a join at read time: the domain row
 * must outlive its task (`tasks.delete` removes finished tasks and keeps
 * their runs, which must still say `completed` or `failed`); the status
 * filters and indexes of runs and jobs stay on their own tables; and because
 * this is the only code that writes those columns, always in the same
 * transaction as the task change, the copy cannot drift. Live-only facts
 * (owner, heartbeat, progress) are not copied: readers join the task.
 */
import type { TaskRow } from './taskRows';
import { resultOf } from './taskRows';
import type { Changes } from './changes';
import type { Db } from './db';
import { batchStatusOf, runStatusOf, studyStatusOf, trialStateOf } from './taskStates';

/** Why a crashed run can continue, or that it cannot. */
function runResumeHint(db: Db, runId: number): string {
  const epoch = db
    .prepare('SELECT epoch FROM checkpoints WHERE run_id = ? ORDER BY step DESC, id DESC LIMIT 1')
    .pluck()
    .get(runId) as number | undefined;
  return epoch === undefined
    ? ' Everything logged until then is kept; it has no checkpoint to resume from.'
    : ` Everything logged until then is kept; it can resume from its epoch ${epoch} checkpoint.`;
}

/** The error a domain row shows: none while it runs, the task's otherwise. */
function errorFor(task: TaskRow, running: boolean): string | null {
  return running ? null : task.error;
}

/** Writes the statuses `task` implies to the rows that point at it. */
export function syncDomain(db: Db, task: TaskRow, now: number, changes: Changes): void {
  switch (task.kind) {
    case 'training': {
      const status = runStatusOf(task.state);
      const runIds = db.prepare('SELECT id FROM runs WHERE task_id = ?').pluck().all(task.id) as number[];
      const update = db.prepare('UPDATE runs SET status = ?, error = ?, started_at = ?, finished_at = ? WHERE id = ?');
      for (const runId of runIds) {
        let error = errorFor(task, status === 'running');
        if (status === 'crashed') error = `${error ?? 'It crashed.'}${runResumeHint(db, runId)}`;
        update.run(status, error, task.started_at, task.finished_at, runId);
        changes.runs.add(runId);
      }
      return;
    }
    case 'batch': {
      const status = batchStatusOf(task.state);
      let error = errorFor(task, status === 'running');
      if (status === 'crashed') error = `${error ?? 'It crashed.'} Captions written until then are kept; resuming skips them.`;
      db.prepare('UPDATE batch_jobs SET status = ?, error = ?, started_at = ?, finished_at = ? WHERE task_id = ?').run(
        status,
        error,
        task.started_at,
        task.finished_at,
        task.id,
      );
      return;
    }
    case 'study':
      db.prepare('UPDATE studies SET status = ?, updated_at = ? WHERE task_id = ?').run(studyStatusOf(task.state), now, task.id);
      return;
    case 'trial': {
      const state = trialStateOf(task.state, resultOf(task));
      db.prepare('UPDATE trials SET state = ?, error = ?, started_at = ?, finished_at = ? WHERE task_id = ?').run(
        state,
        errorFor(task, state === 'running'),
        task.started_at,
        task.finished_at,
        task.id,
      );
      return;
    }
    default:
      // Evaluation, synthesis and import tasks keep no status elsewhere.
      return;
  }
}
