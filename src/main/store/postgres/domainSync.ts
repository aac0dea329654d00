/**
 * Keeps a run's, batch job's, study's or trial's status in step with its
 * task, inside the transaction that moved the task (the reasons are in
 * ../domainSync.ts; this is the same rule on PostgreSQL).
 */
import type { TaskRow } from '../taskRows';
import { resultOf } from '../taskRows';
import { batchStatusOf, runStatusOf, studyStatusOf, trialStateOf } from '../taskStates';
import type { Changes } from './context';
import type { Sql } from './sql';

async function runResumeHint(sql: Sql, runId: number): Promise<string> {
  const epoch = await sql.value<number>('SELECT epoch FROM checkpoints WHERE run_id = ? ORDER BY step DESC, id DESC LIMIT 1', [runId]);
  return epoch === undefined
    ? ' Everything logged until then is kept; it has no checkpoint to resume from.'
    : ` Everything logged until then is kept; it can resume from its epoch ${epoch} checkpoint.`;
}

function errorFor(task: TaskRow, running: boolean): string | null {
  return running ? null : task.error;
}

export async function syncDomain(sql: Sql, task: TaskRow, now: number, changes: Changes): Promise<void> {
  switch (task.kind) {
    case 'training': {
      const status = runStatusOf(task.state);
      const runIds = await sql.column<number>('SELECT id FROM runs WHERE task_id = ?', [task.id]);
      for (const runId of runIds) {
        let error = errorFor(task, status === 'running');
        if (status === 'crashed') error = `${error ?? 'It crashed.'}${await runResumeHint(sql, runId)}`;
        await sql.run('UPDATE runs SET status = ?, error = ?, started_at = ?, finished_at = ? WHERE id = ?', [
          status,
          error,
          task.started_at,
          task.finished_at,
          runId,
        ]);
        changes.runs.add(runId);
      }
      return;
    }
    case 'batch': {
      const status = batchStatusOf(task.state);
      let error = errorFor(task, status === 'running');
      if (status === 'crashed') error = `${error ?? 'It crashed.'} Captions written until then are kept; resuming skips them.`;
      await sql.run('UPDATE batch_jobs SET status = ?, error = ?, started_at = ?, finished_at = ? WHERE task_id = ?', [
        status,
        error,
        task.started_at,
        task.finished_at,
        task.id,
      ]);
      return;
    }
    case 'study':
      await sql.run('UPDATE studies SET status = ?, updated_at = ? WHERE task_id = ?', [studyStatusOf(task.state), now, task.id]);
      return;
    case 'trial': {
      const state = trialStateOf(task.state, resultOf(task));
      await sql.run('UPDATE trials SET state = ?, error = ?, started_at = ?, finished_at = ? WHERE task_id = ?', [
        state,
        errorFor(task, state === 'running'),
        task.started_at,
        task.finished_at,
        task.id,
      ]);
      return;
    }
    default:
      return;
  }
}
