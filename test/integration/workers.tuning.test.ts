/**
 * A tuning study queued for workers on one PostgreSQL store
 * (`captioner tune --queue`): three `captioner worker` processes (each with
 * its own engine) run one study of 12 two-epoch trials on a tiny dataset,
 * three at a time; the command follows it from here with the same JSON lines
 * as a local study. Then again with the worker running the study (and one
 * trial's training) killed with SIGKILL mid-trial: the others find it gone,
 * the study is queued again and taken over, the trial whose run died with
 * the worker is crashed and retried once, the trials whose runs train on the
 * live workers are taken back, and the study still ends with exactly 12
 * completed-or-pruned trials, numbered without gaps or repeats.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TrialRecord } from '../../src/shared/storeTypes';
import { openPostgresStore, type PostgresExperimentStore } from '../../src/main/store/postgres/store';
import { startPostgres, type TestPostgres } from '../helpers/postgres';
import { jsonLines, runCli } from '../helpers/runCli';
import { startWorker, stopWorkers, until as untilDone } from '../helpers/workerProcesses';
import { writeTinyDataset } from '../helpers/tinyDataset';

const tiny = ['--set', 'encoder.imageSize=16', '--set', 'encoder.scratchChannels=4', '--set', 'validation.subsetSize=4', '--set', 'training.earlyStoppingPatience=0'];
/**
 * Short limits so a dead worker is noticed within seconds (on one host its
 * process is found gone at the next watchdog pass, every half limit). Not
 * shorter: three engines and the database share two busy cores here, and a
 * live worker stalled past the limit would be taken for dead.
 */

let server: TestPostgres;
let root: string;
let dataset: string;
let spaceFile: string;

beforeAll(async () => {
  server = await startPostgres();
  root = mkdtempSync(join(tmpdir(), 'workers-tuning-'));
  dataset = await writeTinyDataset(join(root, 'data'));
  spaceFile = join(root, 'space.json');
  writeFileSync(spaceFile, JSON.stringify({ 'optimizer.learningRate': { type: 'float', low: 1e-4, high: 1e-2, log: true }, 'decoder.cell': { type: 'categorical', choices: ['lstm', 'gru'] } }));
}, 120_000);

afterAll(async () => {
  await server?.stop();
  rmSync(root, { recursive: true, force: true });
});

/** A study of 12 two-epoch trials, three at a time, queued for the workers and followed from here. */
function tuneQueued(url: string, dataDir: string, study: string) {
  return runCli([
    'tune', '--dataset', dataset, '--epochs', '2', '--batch-size', '16', ...tiny, '--space', spaceFile,
    '--sampler', 'tpe', '--seed', '3', '--pruner', 'median', '--trials', '12', '--parallel', '3',
    '--study', study, '--store', url, '--data-dir', dataDir, '--queue', '--json',
  ]);
}

const finishedWell = (trial: TrialRecord) => trial.state === 'completed' || trial.state === 'pruned';

/** Polls the store at this test's pace, with its patience. */
const until = <T>(what: string, probe: () => Promise<T | null | undefined | false>, timeoutMs = 180_000) => untilDone(what, probe, timeoutMs, 200);

describe('captioner tune --queue on three workers', () => {
  let store: PostgresExperimentStore;
  let url: string;
  let dataDir: string;
  beforeAll(async () => {
    url = await server.createDatabase('workers_tuning');
    dataDir = join(root, 'shared');
    store = await openPostgresStore({ url, dataDir, recoverOnOpen: false }).ready();
  });
  afterAll(async () => {
    await store?.close();
    await server?.dropDatabase('workers_tuning');
  });

  it('runs all 12 trials on the workers, numbered 0..11, and follows the study with the local JSON lines', async () => {
    const workers = ['w1', 'w2', 'w3'].map((name) => startWorker(url, dataDir, name));
    try {
      await until('three ready workers', async () => workers.every((worker) => worker.lines.some((line) => line.type === 'ready')));
      const { code, stdout, stderr } = await tuneQueued(url, dataDir, 'queued');
      expect(code, stderr).toBe(0);
      const lines = jsonLines<Record<string, unknown>>(stdout);
      expect(lines[0]).toMatchObject({ type: 'queued', name: 'queued' });
      const started = lines.find((line) => line.type === 'started')!;
      expect(['w1', 'w2', 'w3']).toContain(started.worker);
      const trialLines = lines.filter((line) => line.type === 'trial');
      expect(trialLines.map((line) => line.number).sort((a, b) => (a as number) - (b as number))).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
      expect(lines.at(-1)).toMatchObject({ type: 'final', status: 'completed', reason: 'trials', trials: 12 });

      const study = (await store.studies.getByName('queued'))!;
      const trials = await store.studies.trials(study.id);
      expect(trials.map((t) => t.number)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
      expect(trials.every(finishedWell)).toBe(true);
      // The trials trained wherever a compute slot was free, several at once.
      const trainers = new Set<string>();
      for (const trial of trials) {
        const run = (await store.runs.get(trial.runId!))!;
        trainers.add((await store.tasks.get(run.taskId!))!.owner!.worker);
      }
      expect(trainers.size).toBeGreaterThanOrEqual(2);
      const overlapping = trials.some((a) => trials.some((b) => a !== b && a.startedAt! < b.startedAt! && b.startedAt! < a.finishedAt!));
      expect(overlapping).toBe(true);
    } finally {
      expect((await stopWorkers(workers)).filter((code) => code !== 0)).toEqual([]);
    }
  }, 600_000);

  it('detaches on Ctrl-C and leaves the study queued; with --cancel, Ctrl-C stops it', async () => {
    // No worker runs: the study waits in the queue while the command follows it.
    const follow = async (args: string[]) => {
      const child = spawn(process.execPath, ['--import', 'tsx', join(process.cwd(), 'src', 'main', 'cli', 'index.ts'), ...args], {
        env: { ...process.env, CAPTIONER_CLI: '1', CAPTIONER_POLL_MS: '300' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let interrupted = false;
      child.stdout!.on('data', (chunk: Buffer) => {
        stdout += chunk.toString();
        if (!interrupted && stdout.includes('"type":"queued"')) {
          interrupted = true;
          child.kill('SIGINT');
        }
      });
      child.stderr!.resume();
      const code = await new Promise<number | null>((resolve) => child.on('exit', (exitCode) => resolve(exitCode)));
      return { code, lines: jsonLines<Record<string, unknown>>(stdout) };
    };
    const detached = await follow([
      'tune', '--dataset', dataset, '--epochs', '2', ...tiny, '--space', spaceFile, '--trials', '2', '--study', 'left', '--store', url, '--data-dir', dataDir, '--queue', '--json',
    ]);
    expect(detached.code).toBe(0);
    expect(detached.lines.map((line) => line.type)).toEqual(['queued', 'detached']);
    const study = (await store.studies.getByName('left'))!;
    expect((await store.tasks.get(study.taskId!))!.state).toBe('queued');

    const cancelled = await follow(['tune', '--resume', 'left', '--store', url, '--data-dir', dataDir, '--queue', '--cancel', '--json']);
    expect(cancelled.code).toBe(130);
    expect(cancelled.lines.at(-1)).toMatchObject({ type: 'final', status: 'stopped', reason: null });
    expect((await store.tasks.get(study.taskId!))!.state).toBe('cancelled');
  }, 120_000);

  it("survives the study's worker killed mid-trial: its trial is retried, the others taken back, 12 trials finish", async () => {
    const workers = ['k1', 'k2', 'k3'].map((name) => startWorker(url, dataDir, name));
    try {
      await until('three ready workers', async () => workers.every((worker) => worker.lines.some((line) => line.type === 'ready')));
      const following = tuneQueued(url, dataDir, 'killed');
      const study = await until('the study', () => store.studies.getByName('killed'));
      // Mid-trial: the study's worker trains a trial (compute lane of 1) that has logged training steps, while
      // another worker trains one too (their study dies under them, their runs do not). Both in one look at the store.
      const runningTask = async (trial: TrialRecord) => {
        if (trial.state !== 'running' || trial.runId === null) return null;
        const run = await store.runs.get(trial.runId);
        const task = run?.taskId ? await store.tasks.get(run.taskId) : null;
        return task?.state === 'running' ? { run: run!, task } : null;
      };
      const { victim, victimTrial, elsewhere } = await until('a trial training on the study\'s worker and another elsewhere', async () => {
        const studyTask = await store.tasks.get(study.taskId!);
        if (studyTask?.state !== 'running' || !studyTask.owner) return null;
        let own: TrialRecord | null = null;
        const others: TrialRecord[] = [];
        for (const trial of await store.studies.trials(study.id)) {
          const training = await runningTask(trial);
          if (!training) continue;
          if (training.task.owner?.worker !== studyTask.owner.worker) others.push(trial);
          else if ((await store.metrics.series(training.run.id, 'train/loss', { maxPoints: 10 })).points.length > 0) own = trial;
        }
        if (!own || others.length === 0) return null;
        return { victim: workers.find((worker) => worker.name === studyTask.owner!.worker)!, victimTrial: own, elsewhere: others };
      });
      process.kill(-victim.child.pid!, 'SIGKILL');
      expect(await victim.exited).toBeNull();

      const { code, stdout, stderr } = await following;
      expect(code, stderr).toBe(0);
      const lines = jsonLines<Record<string, unknown>>(stdout);
      // The follower announced the study's worker, and the one that took it over.
      const claims = lines.filter((line) => line.type === 'started');
      expect(claims[0]!.worker).toBe(victim.name);
      expect(claims.length).toBeGreaterThanOrEqual(2);
      expect(claims.at(-1)!.worker).not.toBe(victim.name);
      expect(lines.at(-1)).toMatchObject({ type: 'final', status: 'completed', reason: 'trials' });

      const trials = await store.studies.trials(study.id);
      // Numbers without gaps or repeats, and exactly the budget finished well.
      expect(trials.map((t) => t.number)).toEqual(trials.map((_, index) => index));
      expect(trials.filter(finishedWell)).toHaveLength(12);
      const crashed = trials.filter((t) => t.state === 'crashed');
      expect(trials).toHaveLength(12 + crashed.length);
      // The trial whose run died with the worker: crashed, saying which process died, and retried once with its parameters.
      const dead = trials.find((t) => t.id === victimTrial.id)!;
      expect(dead.state).toBe('crashed');
      expect(dead.error).toMatch(new RegExp(`of process ${victim.child.pid} [\\s\\S]*(is gone|No heartbeat)[\\s\\S]*Retried as trial \\d+\\.`));
      const retryNumber = Number(/Retried as trial (\d+)\./.exec(dead.error!)![1]);
      const retry = trials.find((t) => t.number === retryNumber)!;
      expect(retry.params).toEqual(dead.params);
      expect(finishedWell(retry)).toBe(true);
      for (const trial of crashed) expect(trial.error).toMatch(/Retried as trial \d+\./);
      // Those were crashed with the study's worker and taken back by the study's new task: same trial, same run, finished.
      expect(elsewhere.length).toBeGreaterThan(0);
      for (const before of elsewhere) {
        const after = trials.find((t) => t.id === before.id)!;
        const run = await store.runs.get(after.runId!);
        expect(finishedWell(after), JSON.stringify({ after, run: { status: run?.status, error: run?.error }, task: await store.tasks.get(after.taskId!), runTask: await store.tasks.get(run!.taskId!) })).toBe(true);
        expect(after.runId).toBe(before.runId);
        expect((await store.tasks.get(after.taskId!))!.attempts).toBeGreaterThanOrEqual(2);
      }
      // Taken over by a live worker.
      const studyTask = (await store.tasks.get(study.taskId!))!;
      expect(studyTask.state).toBe('completed');
      expect(studyTask.attempts).toBeGreaterThanOrEqual(2);
      expect(studyTask.owner?.worker).not.toBe(victim.name);
    } finally {
      const codes = await stopWorkers(workers);
      expect(codes.filter((code) => code !== null && code !== 0)).toEqual([]);
    }
  }, 600_000);
});
