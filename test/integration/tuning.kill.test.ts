/**
 * A study survives its process being killed mid-trial: `captioner tune` is
 * killed with SIGKILL (its whole process group, engine included) while a
 * trial's run is training; `captioner study resume` then finds the trial
 * crashed, marks it and retries it once with the same parameters, and the
 * study ends with exactly the asked number of completed-or-pruned trials.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { beforeAll, describe, expect, it } from 'vitest';
import type { StudyDetails } from '../../src/shared/contract/tuning';
import { databasePath, openDatabase } from '../../src/main/store/db';
import { jsonLines, runCli } from '../helpers/runCli';
import { writeTinyDataset } from '../helpers/tinyDataset';

let root: string;
let dataset: string;
let spaceFile: string;
beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'tuning-kill-'));
  dataset = await writeTinyDataset(join(root, 'data'));
  spaceFile = join(root, 'space.json');
  writeFileSync(spaceFile, JSON.stringify({ 'optimizer.learningRate': { type: 'float', low: 1e-4, high: 1e-2, log: true } }));
});

const tiny = ['--set', 'encoder.imageSize=16', '--set', 'encoder.scratchChannels=4', '--set', 'validation.subsetSize=4', '--set', 'training.earlyStoppingPatience=0'];

/** The trial whose run is training right now and has finished its first epoch, read straight from the database. */
function trainingTrial(dataDir: string): { number: number; params: string } | null {
  let db: ReturnType<typeof openDatabase> | null = null;
  try {
    db = openDatabase(databasePath(dataDir));
    return (
      (db
        .prepare(
          // Its run's own metrics, not the trial's copies of them (the study copies them on its next poll, which may
          // come only after the run ended): one epoch done and three to go, so the kill lands mid-run.
          `SELECT t.number, t.params FROM trials t JOIN runs r ON r.id = t.run_id
           WHERE t.state = 'running' AND r.status = 'running'
             AND (SELECT COUNT(*) FROM metrics m WHERE m.run_id = r.id AND m.key = 'val/loss') = 1
           ORDER BY t.number DESC LIMIT 1`,
        )
        .get() as { number: number; params: string } | undefined) ?? null
    );
  } catch {
    return null; // Not created yet.
  } finally {
    db?.close();
  }
}

describe('a study killed mid-trial', () => {
  it('marks the crashed trial, retries it once and finishes with the asked number of trials', async () => {
    const dataDir = join(root, 'wb');
    const args = [
      'tune', '--dataset', dataset, '--epochs', '4', '--batch-size', '16', ...tiny, '--space', spaceFile,
      '--sampler', '{"name":"random","options":{"seed":2}}', '--pruner', 'none', '--trials', '3', '--name', 'killed study', '--json', '--data-dir', dataDir,
    ];
    const child = spawn(process.execPath, ['--import', 'tsx', join(process.cwd(), 'src', 'main', 'cli', 'index.ts'), ...args], {
      env: { ...process.env, CAPTIONER_CLI: '1' },
      detached: true,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)));

    // Kill as soon as the second trial (or the first, if it is slow) is between epochs: mid-trial for sure.
    let victim: { number: number; params: string } | null = null;
    for (let waited = 0; waited < 240_000 && !victim; waited += 200) {
      await delay(200);
      victim = trainingTrial(dataDir);
    }
    expect(victim, stderr).not.toBeNull();
    process.kill(-child.pid!, 'SIGKILL');
    expect(await exited).toBe('SIGKILL');

    const resumed = await runCli(['study', 'resume', '1', '--json', '--data-dir', dataDir]);
    expect(resumed.code, resumed.stderr).toBe(0);
    const final = jsonLines<Record<string, unknown>>(resumed.stdout).at(-1)!;
    expect(final).toMatchObject({ type: 'final', status: 'completed' });

    const show = await runCli(['study', 'show', '1', '--json', '--data-dir', dataDir]);
    const details = JSON.parse(show.stdout) as StudyDetails;
    const crashed = details.trials.find((t) => t.number === victim!.number)!;
    expect(crashed.state).toBe('crashed');
    const retryNumber = Number(/Retried as trial (\d+)\./.exec(crashed.error ?? '')?.[1]);
    const retry = details.trials.find((t) => t.number === retryNumber)!;
    expect(retry.params).toEqual(JSON.parse(victim!.params));
    expect(retry.state).toBe('completed');
    expect(retry.intermediates).toHaveLength(4);
    // Exactly the asked number of completed-or-pruned trials; the crashed one only stood aside.
    expect(details.trials.filter((t) => t.state === 'completed' || t.state === 'pruned')).toHaveLength(3);
    expect(details.trials.filter((t) => t.state === 'crashed')).toHaveLength(1);
    expect(details.trials).toHaveLength(4);
  }, 300_000);
});
