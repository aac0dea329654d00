/**
 * `captioner train` end to end: the real engine process, JSON lines on
 * stdout, and Ctrl-C sent to the whole process group (as a terminal does),
 * which must stop after the current step with a resumable checkpoint.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { main } from '../../src/main/cli';
import { writeTinyDataset } from '../helpers/tinyDataset';

let root: string;
let dataset: string;
beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'cli-train-'));
  dataset = await writeTinyDataset(join(root, 'data'));
});
afterEach(() => vi.restoreAllMocks());

const tiny = ['--set', 'encoder.imageSize=16', '--set', 'encoder.scratchChannels=4', '--set', 'validation.subsetSize=4', '--set', 'training.earlyStoppingPatience=0'];

async function runCli(argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => ((stdout += String(chunk)), true));
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => ((stderr += String(chunk)), true));
  const code = await main(argv);
  vi.restoreAllMocks();
  return { code, stdout, stderr };
}

const lines = (stdout: string) => stdout.trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);

describe('captioner train', () => {
  it('prints a started line, one line per epoch and a final line with --json', async () => {
    const dataDir = join(root, 'wb1');
    const { code, stdout } = await runCli(['train', '--dataset', dataset, '--epochs', '2', '--batch-size', '16', ...tiny, '--json', '--data-dir', dataDir]);
    expect(code).toBe(0);
    const out = lines(stdout);
    expect(out.map((line) => line.type)).toEqual(['started', 'epoch', 'epoch', 'final']);
    expect(out[1]).toMatchObject({ epoch: 1, epochs: 2 });
    expect(typeof out[2]!.bleu4).toBe('number');
    expect(out[3]).toMatchObject({ status: 'completed', epochsCompleted: 2 });
    expect(String(out[3]!.checkpoint)).toMatch(/epoch-0002$/);
    expect(out[3]!.validation).toMatchObject({ valLoss: expect.any(Number), bleu4: expect.any(Number), ciderD: expect.any(Number) });

    const again = await runCli(['train', '--resume', String(out[3]!.runId), '--json', '--data-dir', dataDir]);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/completed/);
  });

  it('--estimate says how many of the epochs the time budget holds', async () => {
    const dataDir = join(root, 'wb-estimate');
    // 1,000 epochs in a budget of 0.06 s: whatever this machine's speed, the budget holds fewer.
    const { code, stdout } = await runCli(['train', '--estimate', '--dataset', dataset, '--epochs', '1000', ...tiny, '--set', 'training.maxMinutes=0.001', '--data-dir', dataDir]);
    expect(code).toBe(0);
    expect(stdout).toMatch(/^Per epoch /m);
    expect(stdout).toMatch(/^Time budget +The 0\.001-minute budget holds about \d+ of the 1000 epochs on this machine/m);
    const unbounded = await runCli(['train', '--estimate', '--dataset', dataset, '--epochs', '2', ...tiny, '--data-dir', dataDir]);
    expect(unbounded.stdout).not.toMatch(/Time budget/);
  });

  it('stops cleanly on Ctrl-C to the process group and resumes to the end', async () => {
    const dataDir = join(root, 'wb2');
    const args = ['train', '--dataset', dataset, '--epochs', '3', '--batch-size', '16', ...tiny, '--json', '--data-dir', dataDir];
    const child = spawn(process.execPath, ['--import', 'tsx', join(process.cwd(), 'src', 'main', 'cli', 'index.ts'), ...args], {
      env: { ...process.env, CAPTIONER_CLI: '1' },
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let interrupted = false;
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      // After the first epoch, interrupt the whole group, engine included, like a terminal's Ctrl-C.
      if (!interrupted && stdout.includes('"type":"epoch"')) {
        interrupted = true;
        process.kill(-child.pid!, 'SIGINT');
      }
    });
    child.stderr.resume();
    const code = await new Promise<number | null>((resolve) => child.on('exit', (exitCode) => resolve(exitCode)));
    expect(interrupted).toBe(true);
    // Stopped before the end: not completed, so not 0 (130, as for an interrupted command).
    expect(code).toBe(130);
    const final = lines(stdout).find((line) => line.type === 'final')!;
    expect(final.status).toBe('stopped');
    expect(String(final.checkpoint)).toMatch(/(step|epoch)-\d+$/);

    const resumed = await runCli(['train', '--resume', String(final.runId), '--json', '--data-dir', dataDir]);
    expect(resumed.code).toBe(0);
    expect(lines(resumed.stdout).find((line) => line.type === 'final')).toMatchObject({ status: 'completed', epochsCompleted: 3 });
  });
});
