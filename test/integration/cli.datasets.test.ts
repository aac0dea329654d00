/** `captioner synth` and `captioner dataset ...` end to end: argument parsing, the validated API, the real engine process. */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { main } from '../../src/main/cli';
import type { DatasetStats, DatasetSummary, GroundedScore, SynthResult } from '../../src/shared/datasetsTypes';
import { tempDir, writeFlickr8kToken } from '../helpers/datasetFixtures';

async function runCli(argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const out = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => ((stdout += String(chunk)), true));
  const err = vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => ((stderr += String(chunk)), true));
  try {
    const code = await main(argv);
    return { code, stdout, stderr };
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
}

let temp: ReturnType<typeof tempDir>;
beforeEach(() => (temp = tempDir('cli-datasets-')));
afterEach(() => {
  vi.restoreAllMocks();
  temp.cleanup();
});

describe('captioner synth and dataset', () => {
  it('renders Shapes in the engine, registers it, and scores captions against it', async () => {
    const out = join(temp.dir, 'shapes');
    const dataDir = join(temp.dir, 'data');
    const synth = await runCli(['synth', '--out', out, '--images', '30', '--seed', '2', '--size', '64', '--register', '--json', '--data-dir', dataDir]);
    expect(synth.stderr).toBe('');
    expect(synth.code).toBe(0);
    const result = JSON.parse(synth.stdout) as SynthResult;
    expect(result).toMatchObject({ images: 30, captions: 150, out });
    expect(result.dataset).toMatchObject({ kind: 'shapes', format: 'karpathy', images: 30 });

    const list = await runCli(['dataset', 'list', '--json', '--data-dir', dataDir]);
    expect(list.stdout.trim().split('\n').map((line) => (JSON.parse(line) as DatasetSummary).id)).toEqual([result.dataset?.id]);

    const captions = readFileSync(join(out, 'captions.txt'), 'utf8').trim().split('\n').slice(1);
    const own = Object.fromEntries(captions.map((row) => row.split(',') as [string, string]));
    const file = join(temp.dir, 'own.json');
    writeFileSync(file, JSON.stringify(Object.entries(own).map(([image_id, caption]) => ({ image_id, caption }))));
    const score = await runCli(['dataset', 'score', out, file, '--json', '--data-dir', dataDir]);
    expect(score.code).toBe(0);
    const report = JSON.parse(score.stdout) as GroundedScore;
    expect(report.images).toBe(30);
    expect(report.overall.precision).toBe(1);
  });

  it('prints stats as JSON and as text, and names bad input', async () => {
    const token = await writeFlickr8kToken(temp.dir);
    const dataDir = join(temp.dir, 'data');
    const json = await runCli(['dataset', 'stats', temp.dir, '--json', '--min-count', '1', '--data-dir', dataDir]);
    expect(json.code).toBe(0);
    const stats = JSON.parse(json.stdout) as DatasetStats;
    expect(stats).toMatchObject({ format: 'flickr8k-token', images: 3, captions: 5, splitSource: 'dataset' });
    expect(stats.splits.val).toEqual({ images: 1, captions: 2 });

    const text = await runCli(['dataset', 'stats', token, '--data-dir', dataDir]);
    expect(text.stdout).toMatch(/Format\s+flickr8k-token/);
    expect(text.stdout).toMatch(/Splits\s+train 1, val 1, test 1/);

    writeFileSync(token, 'dog.jpg#0\tok\nbroken line\n');
    const bad = await runCli(['dataset', 'stats', token, '--data-dir', dataDir]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain(`${token}:2: expected "IMAGE#N<TAB>caption"`);

    const usage = await runCli(['synth', '--images', '3']);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain('--out DIR is required');
  });
});
