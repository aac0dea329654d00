/**
 * Crash recovery. A run, trial or batch job is `running` only while some
 * engine works on it and keeps its heartbeat fresh. When the owning process
 * is gone (the app was killed) or the heartbeat went stale (the engine hung
 * or died without a word), it is marked `crashed`: its metrics, checkpoints
 * and samples stay, and the error says where it can resume. Queued work whose
 * owner is gone will never start, so runs and jobs are `stopped` and trials
 * `crashed`.
 *
 * Runs at store open (the next start) and from the store's watchdog (while
 * the app runs). A live owner's work is judged by its heartbeat alone, so a
 * CLI opening the same data directory never crashes the app's runs.
 */
import type { RecoveryReport } from '../../shared/storeTypes';
import { isoTime, type Clock } from './clock';
import type { Db } from './db';
import type { OwnerCheck } from './owner';

export interface RecoveryContext {
  db: Db;
  clock: Clock;
  isOwnerAlive: OwnerCheck;
  staleAfterMs: number;
}

/**
 * Default silence after which running work counts as crashed. Training beats
 * with every metric flush (about once a second); five minutes leaves room for
 * a long validation pass on a slow CPU without a false alarm.
 */
export const DEFAULT_STALE_AFTER_MS = 5 * 60_000;

interface LiveRow {
  id: number;
  status: string;
  owner_host: string | null;
  owner_pid: number | null;
  heartbeat_at: number | null;
  started_at: number | null;
  created_at: number;
}

type Verdict = { kind: 'crashed' | 'abandoned'; reason: string } | null;

function judge(row: LiveRow, context: RecoveryContext, now: number): Verdict {
  const ownerAlive = context.isOwnerAlive(row.owner_host, row.owner_pid);
  if (row.status === 'queued') {
    return ownerAlive ? null : { kind: 'abandoned', reason: 'The workbench closed before it started.' };
  }
  const lastSign = row.heartbeat_at ?? row.started_at ?? row.created_at;
  if (!ownerAlive) {
    const who = row.owner_pid === null ? 'its workbench process' : `workbench process ${row.owner_pid} on ${row.owner_host ?? 'this machine'}`;
    return { kind: 'crashed', reason: `It stopped when ${who} exited (last heartbeat ${isoTime(lastSign)}).` };
  }
  if (now - lastSign > context.staleAfterMs) {
    return {
      kind: 'crashed',
      reason: `The engine stopped sending heartbeats at ${isoTime(lastSign)} (silent for more than ${Math.round(context.staleAfterMs / 1000)} s).`,
    };
  }
  return null;
}

function resumeHint(db: Db, runId: number): string {
  const checkpoint = db
    .prepare('SELECT epoch FROM checkpoints WHERE run_id = ? ORDER BY step DESC, id DESC LIMIT 1')
    .pluck()
    .get(runId) as number | undefined;
  return checkpoint === undefined
    ? ' Everything logged until then is kept; it has no checkpoint to resume from.'
    : ` Everything logged until then is kept; it can resume from its epoch ${checkpoint} checkpoint.`;
}

/** Marks interrupted work in one transaction and reports the ids it changed. */
export function recoverInterrupted(context: RecoveryContext): RecoveryReport {
  const { db } = context;
  const now = context.clock();
  const select = (table: string, stateColumn: string) =>
    db
      .prepare(
        `SELECT id, ${stateColumn} AS status, owner_host, owner_pid, heartbeat_at, started_at, created_at
           FROM ${table} WHERE ${stateColumn} IN ('queued', 'running') ORDER BY id`,
      )
      .all() as LiveRow[];

  return db.transaction((): RecoveryReport => {
    const report: RecoveryReport = { runs: [], trials: [], batchJobs: [] };

    const markRun = db.prepare(`UPDATE runs SET status = ?, error = ?, finished_at = ? WHERE id = ? AND status = ?`);
    for (const row of select('runs', 'status')) {
      const verdict = judge(row, context, now);
      if (!verdict) continue;
      const status = verdict.kind === 'crashed' ? 'crashed' : 'stopped';
      const reason = verdict.kind === 'crashed' ? verdict.reason + resumeHint(db, row.id) : verdict.reason;
      if (markRun.run(status, reason, now, row.id, row.status).changes) report.runs.push(row.id);
    }

    const markTrial = db.prepare(`UPDATE trials SET state = 'crashed', error = ?, finished_at = ? WHERE id = ? AND state = ?`);
    for (const row of select('trials', 'state')) {
      const verdict = judge(row, context, now);
      if (verdict && markTrial.run(verdict.reason, now, row.id, row.status).changes) report.trials.push(row.id);
    }

    const markJob = db.prepare(`UPDATE batch_jobs SET status = ?, error = ?, finished_at = ? WHERE id = ? AND status = ?`);
    for (const row of select('batch_jobs', 'status')) {
      const verdict = judge(row, context, now);
      if (!verdict) continue;
      const status = verdict.kind === 'crashed' ? 'crashed' : 'stopped';
      const reason = verdict.kind === 'crashed' ? `${verdict.reason} Captions written until then are kept; resuming skips them.` : verdict.reason;
      if (markJob.run(status, reason, now, row.id, row.status).changes) report.batchJobs.push(row.id);
    }
    return report;
  }).immediate();
}
