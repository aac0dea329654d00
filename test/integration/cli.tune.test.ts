/**
 * `captioner tune` and `captioner study` end to end with the real engine:
 * a small study on a tiny dataset, each trial a real training run.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { jsonLines, runCli } from '../helpers/runCli';
import { writeTinyDataset } from '../helpers/tinyDataset';

let root: string;
let dataset: string;
let spaceFile: string;
beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'cli-tune-'));
  dataset = await writeTinyDataset(join(root, 'data'));
  spaceFile = join(root, 'space.json');
  writeFileSync(
    spaceFile,
    JSON.stringify({
      'optimizer.learningRate': { type: 'float', low: 1e-4, high: 1e-2, log: true },
      'decoder.cell': { type: 'categorical', choices: ['lstm', 'gru'] },
    }),
  );
});

const tiny = ['--set', 'encoder.imageSize=16', '--set', 'encoder.scratchChannels=4', '--set', 'validation.subsetSize=4', '--set', 'training.earlyStoppingPatience=0'];

describe('captioner tune', () => {
  it('runs a study of real training runs, one JSON line per trial and the best at the end; study shows it', async () => {
    const dataDir = join(root, 'wb');
    const args = ['tune', '--dataset', dataset, '--epochs', '2', '--batch-size', '16', ...tiny, '--space', spaceFile, '--sampler', 'random', '--seed', '4', '--pruner', 'none'];
    const { code, stdout, stderr } = await runCli([...args, '--trials', '3', '--timeout', '1h', '--study', 'tiny study', '--json', '--data-dir', dataDir]);
    expect(code, stderr).toBe(0);
    const lines = jsonLines<Record<string, unknown>>(stdout);
    const trials = lines.filter((l) => l.type === 'trial');
    expect(trials.map((t) => t.number).sort()).toEqual([0, 1, 2]);
    for (const t of trials) {
      expect(t).toMatchObject({ state: 'completed', epochs: 2 });
      expect(typeof t.value).toBe('number');
      expect(['lstm', 'gru']).toContain((t.params as Record<string, unknown>)['decoder.cell']);
    }
    const final = lines[lines.length - 1]!;
    expect(final).toMatchObject({ type: 'final', name: 'tiny study', status: 'completed', reason: 'trials', trials: 3 });
    const best = Math.min(...trials.map((t) => t.value as number));
    expect((final.best as { value: number }).value).toBe(best);

    // The best trial, by name and by id.
    const bestLine = await runCli(['study', 'best', 'tiny study', '--json', '--data-dir', dataDir]);
    expect(bestLine.code, bestLine.stderr).toBe(0);
    expect(jsonLines(bestLine.stdout)[0]).toEqual({ studyId: 1, name: 'tiny study', objective: 'val/loss', direction: 'minimize', ...(final.best as object) });
    const bestText = await runCli(['study', 'best', '1', '--data-dir', dataDir]);
    expect(bestText.stdout).toMatch(/^Best of study 1 \(tiny study\): trial \d, val\/loss [\d.]+, run \d+\n {2}optimizer\.learningRate = /);

    // The whole study as JSON, and its trials as CSV.
    const exported = join(root, 'study.json');
    const exportRun = await runCli(['study', 'export', 'tiny study', '--out', exported, '--data-dir', dataDir]);
    expect(exportRun.code, exportRun.stderr).toBe(0);
    const document = JSON.parse(readFileSync(exported, 'utf8')) as { budget: unknown; sampler: string; trials: Array<{ number: number; state: string; intermediates: unknown[]; runId: number; params: object }> };
    expect(document.budget).toEqual({ trials: 3, parallel: 1, timeoutSeconds: 3600 });
    expect(JSON.parse(document.sampler)).toEqual({ name: 'random', options: { seed: 4 } });
    expect(document.trials.map((t) => [t.number, t.state, t.intermediates.length])).toEqual([[0, 'completed', 2], [1, 'completed', 2], [2, 'completed', 2]]);
    expect(document.trials.map((t) => t.runId)).toEqual(trials.sort((a, b) => (a.number as number) - (b.number as number)).map((t) => t.runId));
    const csv = await runCli(['study', 'export', '1', '--format', 'csv', '--data-dir', dataDir]);
    const rows = csv.stdout.trim().split('\n');
    expect(rows[0]).toBe('number,value,datetime_start,datetime_complete,duration,params_decoder.cell,params_optimizer.learningRate,user_attrs_run_id,user_attrs_state,state');
    expect(rows.slice(1).map((row) => row.split(',').at(-1))).toEqual(['COMPLETE', 'COMPLETE', 'COMPLETE']);

    // A completed study has nothing to resume.
    const resumeDone = await runCli(['tune', '--resume', 'tiny study', '--data-dir', dataDir]);
    expect(resumeDone.code).toBe(1);
    expect(resumeDone.stderr).toMatch(/has completed/);

    const list = await runCli(['study', 'list', '--json', '--data-dir', dataDir]);
    expect(jsonLines<{ name: string; status: string }>(list.stdout)).toEqual([expect.objectContaining({ name: 'tiny study', status: 'completed' })]);
    const show = await runCli(['study', 'show', '1', '--data-dir', dataDir]);
    expect(show.stdout).toMatch(/Study 1 \(tiny study\): completed, minimize val\/loss, \{"name":"random"/);
    expect(show.stdout.match(/trial \d\tcompleted/g)).toHaveLength(3);
    const importance = await runCli(['study', 'importance', '1', '--json', '--data-dir', dataDir]);
    expect(jsonLines<{ completeTrials: number }>(importance.stdout)[0]!.completeTrials).toBe(3);
    // A second study with the same name is refused.
    const again = await runCli([...args, '--trials', '1', '--name', 'tiny study', '--data-dir', dataDir]);  // --name: the older spelling of --study
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/already exists/);
  }, 300_000);

  it('names bad flags and bad spaces before anything trains', async () => {
    const dataDir = join(root, 'wb-bad');
    const timeout = await runCli(['tune', '--dataset', dataset, '--timeout', '2 hours', '--data-dir', dataDir]);
    expect(timeout.code).toBe(2);
    expect(timeout.stderr).toMatch(/--timeout must be a duration such as 90s, 45m, 2h or 1h30m \(got "2 hours"\)/);
    const seed = await runCli(['tune', '--dataset', dataset, '--sampler', '{"name":"tpe","options":{"seed":1}}', '--seed', '2', '--data-dir', dataDir]);
    expect(seed.stderr).toMatch(/give the seed once/);
    const resumeFlags = await runCli(['tune', '--resume', 'x', '--trials', '4', '--data-dir', dataDir]);
    expect(resumeFlags.code).toBe(2);
    expect(resumeFlags.stderr).toMatch(/--trials cannot change it/);
    const objective = await runCli(['tune', '--dataset', dataset, '--name', 'x', '--objective', 'accuracy', '--data-dir', dataDir]);
    expect(objective.stderr).toMatch(/--objective must be one of val\/ciderD, val\/bleu4, val\/loss \(got "accuracy"\)/);
    const badSpace = join(root, 'bad.json');
    writeFileSync(badSpace, JSON.stringify({ 'decoder.units': { type: 'int', low: 128, high: 250, step: 64 } }));
    const space = await runCli(['tune', '--dataset', dataset, '--name', 'x', '--space', badSpace, '--data-dir', dataDir]);
    expect(space.code).toBe(1);
    expect(space.stderr).toMatch(/decoder\.units\.step: high - low \(122\) must be a multiple of step 64/);
    const grid = await runCli(['tune', '--dataset', dataset, '--name', 'x', '--space', spaceFile, '--sampler', 'grid', '--data-dir', dataDir]);
    expect(grid.stderr).toMatch(/optimizer\.learningRate is a continuous float/);
    const study = await runCli(['study', 'show', 'seven', '--data-dir', dataDir]);
    expect(study.code).toBe(1);
    expect(study.stderr).toMatch(/No study has the id or name "seven"/);
    const missing = await runCli(['study', 'best', '--data-dir', dataDir]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/needs a study \(its id or name\)/);
  });
});

describe('captioner tune on Ctrl-C', () => {
  it('stops the running trial after its step, exits 130, and --resume STUDY carries the study to its end', async () => {
    const dataDir = join(root, 'wb-interrupt');
    const args = ['tune', '--dataset', dataset, '--epochs', '3', '--batch-size', '16', ...tiny, '--space', spaceFile, '--sampler', 'random', '--pruner', 'none', '--trials', '3', '--study', 'interrupted', '--json', '--data-dir', dataDir];
    const child = spawn(process.execPath, ['--import', 'tsx', join(process.cwd(), 'src', 'main', 'cli', 'index.ts'), ...args], {
      env: { ...process.env, CAPTIONER_CLI: '1' },
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let interrupted = false;
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      // Once the first trial has finished, the second is training: interrupt the group like a terminal's Ctrl-C.
      if (!interrupted && stdout.includes('"type":"trial"')) {
        interrupted = true;
        process.kill(-child.pid!, 'SIGINT');
      }
    });
    child.stderr.resume();
    const code = await new Promise<number | null>((resolve) => child.on('exit', (exitCode) => resolve(exitCode)));
    expect(interrupted).toBe(true);
    expect(code).toBe(130);
    const lines = jsonLines<Record<string, unknown>>(stdout);
    expect(lines.at(-1)).toMatchObject({ type: 'final', status: 'stopped', reason: null });

    // A trial with fixed parameters, enqueued while the study is stopped, runs first when it resumes.
    const badEnqueue = await runCli(['study', 'enqueue', 'interrupted', '--set', 'decoder.units=256', '--data-dir', dataDir]);
    expect(badEnqueue.code).toBe(1);
    expect(badEnqueue.stderr).toMatch(/params\.decoder\.units: not a parameter of study interrupted's search space/);
    const outside = await runCli(['study', 'enqueue', 'interrupted', '--set', 'decoder.cell=rnn', '--data-dir', dataDir]);
    expect(outside.stderr).toMatch(/params\.decoder\.cell: "rnn" is outside the search space \(one of \["lstm","gru"\]\)/);
    const enqueued = await runCli(['study', 'enqueue', 'interrupted', '--set', 'decoder.cell=gru', '--json', '--data-dir', dataDir]);
    expect(enqueued.code, enqueued.stderr).toBe(0);
    const waiting = jsonLines<{ number: number; state: string; params: Record<string, unknown> }>(enqueued.stdout)[0]!;
    expect(waiting).toMatchObject({ state: 'queued', params: { 'decoder.cell': 'gru' } });

    const resumed = await runCli(['tune', '--resume', 'interrupted', '--json', '--data-dir', dataDir]);
    expect(resumed.code, resumed.stderr).toBe(0);
    const after = jsonLines<Record<string, unknown>>(resumed.stdout);
    expect(after.at(-1)).toMatchObject({ type: 'final', status: 'completed', reason: 'trials' });
    const show = jsonLines<{ trials: Array<{ number: number; state: string }> }>((await runCli(['study', 'show', 'interrupted', '--json', '--data-dir', dataDir])).stdout)[0]!;
    // Numbers without gaps; the trial the interrupt stopped is cancelled, and every other one completed.
    expect(show.trials.map((t) => t.number)).toEqual(show.trials.map((_, index) => index));
    expect(show.trials.filter((t) => t.state === 'cancelled').length).toBeLessThanOrEqual(1);
    expect(show.trials.filter((t) => t.state !== 'cancelled').every((t) => t.state === 'completed')).toBe(true);
    expect(show.trials.length).toBe(3);
    const ran = (show.trials as Array<{ number: number; state: string; params: Record<string, unknown> }>).find((t) => t.number === waiting.number)!;
    expect(ran.state).toBe('completed');
    expect(ran.params['decoder.cell']).toBe('gru');
    expect(typeof ran.params['optimizer.learningRate']).toBe('number');
  }, 300_000);
});
