/**
 * Workers on one PostgreSQL store: three `captioner worker` processes (each
 * with its own engine) run queued training runs from a shared data
 * directory. One worker is killed with SIGKILL mid-run: the others notice
 * (its process is gone, or its heartbeat went stale under a short limit),
 * its run crashes with the reason, and training's crash rule leaves it for
 * the user, who resumes it with `captioner train --resume --queue`; it
 * continues from its checkpoint on a surviving worker and completes.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { trainConfigFromArgs } from '../../src/main/cli/commands/train';
import type { JsonObject, RunRecord } from '../../src/shared/storeTypes';
import type { TaskRecord } from '../../src/shared/taskTypes';
import { openPostgresStore, type PostgresExperimentStore } from '../../src/main/store/postgres/store';
import { startPostgres, type TestPostgres } from '../helpers/postgres';
import { jsonLines, runCli } from '../helpers/runCli';
import { startWorker, until as untilDone } from '../helpers/workerProcesses';
import { writeTinyDataset } from '../helpers/tinyDataset';

const tiny = ['--set', 'encoder.imageSize=16', '--set', 'encoder.scratchChannels=4', '--set', 'validation.subsetSize=4', '--set', 'training.earlyStoppingPatience=0'];
/** Short limits so a dead worker is noticed within seconds. */

let server: TestPostgres;
let url: string;
let root: string;
let dataDir: string;
let dataset: string;
let store: PostgresExperimentStore;

beforeAll(async () => {
  server = await startPostgres();
  url = await server.createDatabase('workers_training');
  root = mkdtempSync(join(tmpdir(), 'workers-training-'));
  dataDir = join(root, 'shared');
  dataset = await writeTinyDataset(join(root, 'data'));
  store = await openPostgresStore({ url, dataDir, recoverOnOpen: false }).ready();
}, 120_000);

afterAll(async () => {
  await store?.close();
  await server?.dropDatabase('workers_training');
  await server?.stop();
  rmSync(root, { recursive: true, force: true });
});

/** Polls the store at this test's pace, with its patience. */
const until = <T>(what: string, probe: () => Promise<T | null | undefined | false>, timeoutMs = 120_000) => untilDone(what, probe, timeoutMs, 200);

describe('captioner worker on a shared PostgreSQL store', () => {
  it('runs queued training on three workers; a run whose worker was SIGKILLed crashes, resumes elsewhere and completes', async () => {
    const workers = ['w1', 'w2', 'w3'].map((name) => startWorker(url, dataDir, name, { CAPTIONER_STALE_AFTER_MS: '3000' }));
    try {
      await until('three ready workers', async () => workers.every((worker) => worker.lines.some((line) => line.type === 'ready')));
      const config = trainConfigFromArgs(['--dataset', dataset, '--epochs', '4', '--batch-size', '16', ...tiny]) as unknown as JsonObject;
      const runs: RunRecord[] = [];
      // Workers take work queued for anyone and work queued for the workers only.
      for (let index = 0; index < 3; index++) runs.push(await store.runs.create({ name: `queued-${index}`, config, placement: index === 2 ? 'workers' : 'any' }));

      // Each worker takes one (compute lane of 1), so all three run at once.
      const running = await until('three runs training on three workers', async () => {
        const tasks = await Promise.all(runs.map((run) => store.tasks.get(run.taskId!)));
        const owners = new Set(tasks.map((task) => (task?.state === 'running' ? task.owner?.worker : null)));
        return owners.size === 3 && !owners.has(null) && !owners.has(undefined) ? (tasks as TaskRecord[]) : null;
      });
      const victimTask = running[0]!;
      const victim = workers.find((worker) => worker.name === victimTask.owner!.worker)!;
      // Mid-run: once its first epoch checkpoint is recorded.
      await until('a first checkpoint', async () => (await store.checkpoints.latest(runs[0]!.id)) !== null);
      process.kill(-victim.child.pid!, 'SIGKILL');
      expect(await victim.exited).toBeNull();

      const crashed = await until('the killed worker\'s run to crash', async () => {
        const task = await store.tasks.get(victimTask.id);
        return task?.state === 'crashed' ? task : null;
      }, 60_000);
      expect(crashed.error).toMatch(new RegExp(`worker ${victim.name} of process ${victim.child.pid}.*(is gone|No heartbeat)`));
      const crashedRun = await store.runs.get(runs[0]!.id);
      expect(crashedRun?.status).toBe('crashed');
      expect(crashedRun?.error).toMatch(/can resume from its epoch \d+ checkpoint/);
      // Training's crash rule is manual: nobody requeued it.
      await new Promise((resolve) => setTimeout(resolve, 1500));
      expect((await store.tasks.get(victimTask.id))?.state).toBe('crashed');

      // Resume it for the workers and follow it from here, as a user would.
      const resumed = await runCli(['train', '--resume', String(runs[0]!.id), '--queue', '--store', url, '--data-dir', dataDir, '--json']);
      expect(resumed.code, resumed.stderr).toBe(0);
      const out = jsonLines<Record<string, unknown>>(resumed.stdout);
      expect(out[0]).toMatchObject({ type: 'queued', runId: runs[0]!.id, taskId: victimTask.id });
      const started = out.find((line) => line.type === 'started')!;
      expect(started.worker).not.toBe(victim.name);
      expect(out.filter((line) => line.type === 'epoch').length).toBeGreaterThan(0);
      expect(out[out.length - 1]).toMatchObject({ type: 'final', runId: runs[0]!.id, status: 'completed', epochsCompleted: 4 });
      const after = await store.tasks.get(victimTask.id);
      expect(after?.attempts).toBe(2);
      // `--queue` resumed it for the workers only.
      expect(after?.placement).toBe('workers');
      expect(after?.result?.previousErrors).toEqual([crashed.error]);

      // The two others finish on their own workers.
      for (const run of runs.slice(1)) {
        const finished = await until(`run ${run.id} to end`, async () => {
          const current = await store.runs.get(run.id);
          return current && current.status !== 'running' && current.status !== 'queued' ? current : null;
        });
        expect(finished.status).toBe('completed');
        expect(finished.lastCheckpoint?.path.startsWith(join(dataDir, 'runs', String(run.id)))).toBe(true);
      }
    } finally {
      for (const worker of workers) if (worker.child.exitCode === null && worker.child.signalCode === null) process.kill(-worker.child.pid!, 'SIGINT');
    }
    // Ctrl-C with nothing running: each surviving worker exits cleanly.
    const codes = await Promise.all(workers.map((worker) => worker.exited));
    expect(codes.filter((code) => code !== null)).toEqual([0, 0]);
  }, 400_000);
});

describe('captioner worker on Ctrl-C', () => {
  it('stops its run after the current step, saves, and hands it back to the queue for another worker', async () => {
    const first = startWorker(url, dataDir, 'leaving', { CAPTIONER_STALE_AFTER_MS: '3000' });
    await until('a ready worker', async () => first.lines.some((line) => line.type === 'ready'));
    const config = trainConfigFromArgs(['--dataset', dataset, '--epochs', '4', '--batch-size', '16', ...tiny]) as unknown as JsonObject;
    const run = await store.runs.create({ name: 'handed-back', config });
    await until('a first checkpoint', async () => (await store.checkpoints.latest(run.id)) !== null);
    process.kill(-first.child.pid!, 'SIGINT');
    expect(await first.exited).toBe(0);
    expect(first.lines.map((line) => line.type)).toEqual(['ready', 'started', 'ended']);

    const handedBack = await store.tasks.get(run.taskId!);
    expect(handedBack).toMatchObject({ state: 'queued', attempts: 1, owner: null });
    expect(handedBack?.result?.previousErrors).toEqual([expect.stringMatching(/stopped after epoch \d+/)]);
    expect((await store.runs.resumePoint(run.id))?.checkpointPath).toMatch(/(step|epoch)-\d+$/);

    const second = startWorker(url, dataDir, 'arriving', { CAPTIONER_STALE_AFTER_MS: '3000' });
    try {
      const finished = await until('the handed-back run to end', async () => {
        const current = await store.runs.get(run.id);
        return current && current.status !== 'running' && current.status !== 'queued' ? current : null;
      });
      expect(finished.status).toBe('completed');
      expect((await store.tasks.get(run.taskId!))?.owner?.worker).toBe('arriving');
    } finally {
      process.kill(-second.child.pid!, 'SIGINT');
    }
    expect(await second.exited).toBe(0);
  }, 300_000);
});
