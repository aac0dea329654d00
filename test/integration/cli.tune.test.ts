/**
 * `captioner tune` and `captioner study` end to end with the real engine:
 * a small study on a tiny dataset, each trial a real training run.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
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
    const args = ['tune', '--dataset', dataset, '--epochs', '2', '--batch-size', '16', ...tiny, '--space', spaceFile, '--sampler', '{"name":"random","options":{"seed":4}}', '--pruner', 'none'];
    const { code, stdout, stderr } = await runCli([...args, '--trials', '3', '--name', 'tiny study', '--json', '--data-dir', dataDir]);
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
    expect(final).toMatchObject({ type: 'final', status: 'completed', trials: 3 });
    const best = Math.min(...trials.map((t) => t.value as number));
    expect((final.best as { value: number }).value).toBe(best);

    const list = await runCli(['study', 'list', '--json', '--data-dir', dataDir]);
    expect(jsonLines<{ name: string; status: string }>(list.stdout)).toEqual([expect.objectContaining({ name: 'tiny study', status: 'completed' })]);
    const show = await runCli(['study', 'show', '1', '--data-dir', dataDir]);
    expect(show.stdout).toMatch(/Study 1 \(tiny study\): completed, minimize val\/loss, \{"name":"random"/);
    expect(show.stdout.match(/trial \d\tcompleted/g)).toHaveLength(3);
    const importance = await runCli(['study', 'importance', '1', '--json', '--data-dir', dataDir]);
    expect(jsonLines<{ completeTrials: number }>(importance.stdout)[0]!.completeTrials).toBe(3);
    // A second study with the same name is refused.
    const again = await runCli([...args, '--trials', '1', '--name', 'tiny study', '--data-dir', dataDir]);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/already exists/);
  }, 300_000);

  it('names bad flags and bad spaces before anything trains', async () => {
    const dataDir = join(root, 'wb-bad');
    const noName = await runCli(['tune', '--dataset', dataset, '--data-dir', dataDir]);
    expect(noName.code).toBe(2);
    expect(noName.stderr).toMatch(/--name is required/);
    const objective = await runCli(['tune', '--dataset', dataset, '--name', 'x', '--objective', 'accuracy', '--data-dir', dataDir]);
    expect(objective.stderr).toMatch(/--objective must be one of val\/loss/);
    const badSpace = join(root, 'bad.json');
    writeFileSync(badSpace, JSON.stringify({ 'decoder.units': { type: 'int', low: 128, high: 250, step: 64 } }));
    const space = await runCli(['tune', '--dataset', dataset, '--name', 'x', '--space', badSpace, '--data-dir', dataDir]);
    expect(space.code).toBe(1);
    expect(space.stderr).toMatch(/decoder\.units\.step: high - low \(122\) must be a multiple of step 64/);
    const grid = await runCli(['tune', '--dataset', dataset, '--name', 'x', '--space', spaceFile, '--sampler', 'grid', '--data-dir', dataDir]);
    expect(grid.stderr).toMatch(/optimizer\.learningRate is a continuous float/);
    const study = await runCli(['study', 'show', 'seven', '--data-dir', dataDir]);
    expect(study.code).toBe(2);
    expect(study.stderr).toMatch(/study id/);
  });
});
