/**
 * `captioner train` exits non-zero whenever its run did not complete, with
 * the reason on stderr and in the `--json` output: a dataset path that does
 * not exist (refused before any run row is created), a run that fails in the
 * engine, and a run whose engine is killed mid-training (crashed).
 */
import { spawn, execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { jsonLines, runCli } from '../helpers/runCli';
import { writeTinyDataset } from '../helpers/tinyDataset';

let root: string;
let dataset: string;
beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'cli-exit-'));
  dataset = await writeTinyDataset(join(root, 'data'));
});

const tiny = ['--set', 'encoder.imageSize=16', '--set', 'encoder.scratchChannels=4', '--set', 'validation.subsetSize=4', '--set', 'training.earlyStoppingPatience=0'];

describe('captioner train exit codes', () => {
  it('refuses a dataset path that does not exist before creating a run', async () => {
    const dataDir = join(root, 'missing');
    const missing = join(root, 'no-such-dataset');
    const result = await runCli(['train', '--dataset', missing, '--epochs', '1', '--json', '--data-dir', dataDir]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`${missing} does not exist`);
    expect(jsonLines<Record<string, unknown>>(result.stdout)).toEqual([expect.objectContaining({ type: 'error', error: expect.stringContaining(missing), exitCode: 1 })]);
    const runs = await runCli(['runs', 'list', '--json', '--data-dir', dataDir]);
    expect(runs.code).toBe(0);
    expect(JSON.stringify(jsonLines(runs.stdout))).not.toMatch(/"id":\d/);
  });

  it('exits 1 with the reason when the run fails in the engine', async () => {
    const broken = join(root, 'broken');
    mkdirSync(broken, { recursive: true });
    writeFileSync(join(broken, 'captions.txt'), 'image,caption\n');
    const dataDir = join(root, 'failed');
    const result = await runCli(['train', '--dataset', broken, '--epochs', '1', ...tiny, '--json', '--data-dir', dataDir]);
    expect(result.code).toBe(1);
    const final = jsonLines<Record<string, unknown>>(result.stdout).find((line) => line.type === 'final');
    expect(final).toMatchObject({ status: 'failed', error: expect.stringContaining('captions.txt') });
    expect(result.stderr).toMatch(/Run \d+ failed: .*captions\.txt/);
  });

  it('exits 1 when the engine is killed mid-training (crashed), and names best/ when it exists', async () => {
    const dataDir = join(root, 'crashed');
    const args = ['train', '--dataset', dataset, '--epochs', '50', '--batch-size', '16', ...tiny, '--json', '--data-dir', dataDir];
    const child = spawn(process.execPath, ['--import', 'tsx', join(process.cwd(), 'src', 'main', 'cli', 'index.ts'), ...args], {
      env: { ...process.env, CAPTIONER_CLI: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let killed = false;
    // Once the first epoch's best/ is on disk, kill -9 the engine (the CLI's child process).
    const watch = setInterval(() => {
      const started = stdout.includes('"type":"started"') ? jsonLines<{ type: string; runId: number }>(stdout.split('\n')[0]!)[0] : null;
      if (killed || !started || !existsSync(join(dataDir, 'runs', String(started.runId), 'checkpoints', 'best', 'checkpoint.json'))) return;
      killed = true;
      const engines = execFileSync('ps', ['-o', 'pid=', '--ppid', String(child.pid)]).toString().trim().split(/\s+/).filter(Boolean);
      for (const pid of engines) process.kill(Number(pid), 'SIGKILL');
    }, 50);
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('exit', (exitCode) => resolve(exitCode)));
    clearInterval(watch);
    expect(killed).toBe(true);
    expect(code).toBe(1);
    const final = jsonLines<Record<string, unknown>>(stdout).find((line) => line.type === 'final');
    expect(final).toMatchObject({ status: 'crashed', error: expect.any(String) });
    expect(String(final!.bestCheckpoint)).toMatch(/checkpoints\/best$/);
    expect(stderr).toMatch(/Run \d+ crashed: /);
  }, 120_000);
});
