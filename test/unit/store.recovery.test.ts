/**
 * Crash recovery in the SQLite store: at the next start when the owning
 * process died, by the watchdog when the heartbeat went stale, and never for
 * work a live process still owns (a CLI opening the app's data directory).
 * The rules themselves are in the contract suite (task lifecycle); these
 * check the store's open-time check, its watchdog and its hooks.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { RecoveryReport, RunRecord } from '../../src/shared/storeTypes';
import { openSqliteStore } from '../../src/main/store/sqliteStore';
import { tempDataDir } from '../helpers/storeFixtures';

let data: ReturnType<typeof tempDataDir>;
beforeEach(() => {
  data = tempDataDir('recovery-');
});
afterEach(() => {
  vi.useRealTimers();
  data.remove();
});

const deadOwner = { host: 'this-host', pid: 4_000_001 };

describe('at the next start', () => {
  it('crashes running work of a process that is gone, keeps its data, and leaves queued runs for an executor', async () => {
    const first = openSqliteStore({ dataDir: data.dir, owner: deadOwner });
    const running = await first.runs.create({ config: { epochs: 3 }, status: 'running' });
    const queued = await first.runs.create({ config: {} });
    await first.metrics.append([{ runId: running.id, key: 'train/loss', step: 7, epoch: 0, value: 1.5 }]);
    const study = await first.studies.create({ name: 's', objective: 'val/loss', direction: 'minimize', searchSpace: {}, sampler: 'tpe', pruner: 'none', baseConfig: {} });
    const trial = await first.studies.createTrial(study.id, { lr: 0.01 });
    const job = await first.batchJobs.create({ inputPath: '/in', modelPath: '/m', decoding: {}, total: 5 });
    await first.batchJobs.setStatus(job.id, 'running');
    // The process "dies": no status change, no close.
    first.db.close();

    const changed: RunRecord[] = [];
    const reports: RecoveryReport[] = [];
    const second = openSqliteStore({
      dataDir: data.dir,
      isOwnerAlive: (host, pid) => !(host === deadOwner.host && pid === deadOwner.pid),
      hooks: { onRunChanged: (run) => changed.push(run), onRecovered: (report) => reports.push(report) },
    });
    try {
      const runningJob = await second.batchJobs.get(job.id);
      expect(second.opened.recovered).toEqual({
        runs: [running.id],
        trials: [trial.id],
        batchJobs: [job.id],
        studies: [],
        tasks: [running.taskId, trial.taskId, runningJob?.taskId],
      });
      expect(reports).toEqual([second.opened.recovered]);
      const crashed = await second.runs.get(running.id);
      expect(crashed?.status).toBe('crashed');
      expect(crashed?.error).toMatch(/process 4000001 no longer exists on this-host/);
      expect(crashed?.error).toMatch(/no checkpoint to resume from/);
      const task = await second.tasks.get(running.taskId as number);
      expect(task).toMatchObject({ state: 'crashed', owner: { host: 'this-host', pid: 4_000_001, worker: 'main' } });
      expect(crashed?.error?.startsWith(task?.error as string)).toBe(true);
      expect((await second.metrics.series(running.id, 'train/loss')).points).toEqual([expect.objectContaining({ step: 7, value: 1.5 })]);
      // Queued work has no owner: it waits for whichever executor claims it.
      expect(await second.runs.get(queued.id)).toMatchObject({ status: 'queued', error: null });
      expect(changed.map((run) => [run.id, run.status])).toEqual([[running.id, 'crashed']]);
      expect((await second.studies.getTrial(trial.id))?.state).toBe('crashed');
      expect(runningJob?.status).toBe('crashed');
      expect(runningJob?.error).toMatch(/resuming skips them/);
      // The study's task was queued (open, unclaimed): untouched.
      expect((await second.studies.get(study.id))?.status).toBe('running');
    } finally {
      await second.close();
    }
  });

  it("leaves a live process's fresh work alone (a CLI opening the app's data directory)", async () => {
    const app = openSqliteStore({ dataDir: data.dir });
    const cli = openSqliteStore({ dataDir: data.dir });
    try {
      const run = await app.runs.create({ config: {}, status: 'running' });
      const reopened = openSqliteStore({ dataDir: data.dir });
      expect(reopened.opened.recovered).toEqual({ runs: [], trials: [], batchJobs: [], studies: [], tasks: [] });
      await reopened.close();
      expect((await cli.runs.get(run.id))?.status).toBe('running');
    } finally {
      await cli.close();
      await app.close();
    }
  });
});

describe('while open', () => {
  it('the watchdog crashes a run whose heartbeat went stale', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval', 'Date'] });
    const changed: RunRecord[] = [];
    const store = openSqliteStore({
      dataDir: data.dir,
      staleAfterMs: 60_000,
      watchdogIntervalMs: 10_000,
      hooks: { onRunChanged: (run) => changed.push(run) },
    });
    try {
      const run = await store.runs.create({ config: {}, status: 'running' });
      const beating = await store.runs.create({ config: {}, status: 'running' });
      for (let second = 0; second < 90; second += 10) {
        await store.runs.heartbeat(beating.id);
        await vi.advanceTimersByTimeAsync(10_000);
      }
      expect((await store.runs.get(run.id))?.status).toBe('crashed');
      expect((await store.runs.get(run.id))?.error).toMatch(/No heartbeat from worker main of process \d+ on .+ for \d+ s \(the limit is 60 s/);
      expect((await store.runs.get(beating.id))?.status).toBe('running');
      expect(changed.filter((record) => record.status === 'crashed').map((record) => record.id)).toEqual([run.id]);
    } finally {
      await store.close();
    }
  });
});
