/**
 * Images that cannot be decoded are named wherever a run is looked at:
 * training leaves them out and stores them on the run, the `started` JSON
 * line lists them (and its warnings name them), and `captioner runs show`
 * prints them with their reasons.
 */
import { readFileSync, writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { jsonLines, runCli } from '../helpers/runCli';
import { writeTinyDataset } from '../helpers/tinyDataset';

const tiny = ['--set', 'encoder.imageSize=16', '--set', 'encoder.scratchChannels=4', '--set', 'validation.subsetSize=4', '--set', 'training.earlyStoppingPatience=0'];

describe('images training skips', () => {
  it('are in the started line, stored on the run, and shown by runs show', async () => {
    const root = mkdtempSync(join(tmpdir(), 'cli-skipped-'));
    const dataset = await writeTinyDataset(join(root, 'data'));
    const broken = join(dataset, 'images', 'red-square-0.png');
    const bytes = readFileSync(broken);
    writeFileSync(broken, bytes.subarray(0, Math.floor(bytes.length / 2)));
    const dataDir = join(root, 'wb');

    const trained = await runCli(['train', '--dataset', dataset, '--epochs', '1', '--batch-size', '16', ...tiny, '--json', '--data-dir', dataDir]);
    expect(trained.code, trained.stderr).toBe(0);
    const started = jsonLines<{ type: string; runId: number; warnings: string[]; skippedImages: Array<{ file: string; reason: string }> }>(trained.stdout).find((line) => line.type === 'started')!;
    expect(started.skippedImages).toEqual([{ id: 'images/red-square-0.png', file: broken, reason: expect.any(String) }]);
    expect(started.warnings.some((warning) => warning.includes(broken))).toBe(true);

    const shown = await runCli(['runs', 'show', String(started.runId), '--data-dir', dataDir]);
    expect(shown.code).toBe(0);
    expect(shown.stdout).toContain('Skipped images: 1 could not be decoded');
    expect(shown.stdout).toContain(`${broken}: ${started.skippedImages[0]!.reason}`);
    const json = await runCli(['runs', 'show', String(started.runId), '--json', '--data-dir', dataDir]);
    expect(JSON.parse(json.stdout)).toMatchObject({ skippedImages: { count: 1, images: [{ file: broken }] } });
  }, 120_000);
});
