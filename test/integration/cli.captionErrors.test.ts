/**
 * `captioner caption` on files that are not good images names each file and
 * why (truncated PNG and JPEG, an empty file, a text file, a missing file),
 * captions the good ones, and exits 1 because not every image was captioned.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CaptionResult } from '../../src/shared/inferenceTypes';
import { jsonLines, runCli } from '../helpers/runCli';
import { trainTinyRun, type TrainedRun } from '../helpers/trainedRun';

let run: TrainedRun;
const previousBackend = process.env.CAPTIONER_BACKEND;

beforeAll(async () => {
  process.env.CAPTIONER_BACKEND = 'cpu';
  run = await trainTinyRun({ images: 12, seed: 6 });
}, 240_000);

afterAll(() => {
  if (previousBackend === undefined) delete process.env.CAPTIONER_BACKEND;
  else process.env.CAPTIONER_BACKEND = previousBackend;
});

describe('captioner caption on bad image files', () => {
  it('names the file and the reason for each, and captions the rest', async () => {
    const out = join(run.dataDir, 'pkg');
    expect((await runCli(['export', String(run.runId), '--out', out, '--data-dir', run.dataDir])).code).toBe(0);
    const imageDir = join(run.datasetDir, 'Images');
    const good = join(imageDir, readdirSync(imageDir).sort()[0]!);
    const png = readFileSync(good);
    const truncatedPng = join(run.dataDir, 'truncated.png');
    writeFileSync(truncatedPng, png.subarray(0, Math.floor(png.length / 2)));
    const empty = join(run.dataDir, 'empty.png');
    writeFileSync(empty, '');
    const text = join(run.dataDir, 'notes.jpg');
    writeFileSync(text, 'not a picture');
    const missing = join(run.dataDir, 'gone.png');

    const result = await runCli(['caption', '--model', out, good, truncatedPng, empty, text, missing, '--json', '--data-dir', run.dataDir]);
    expect(result.code).toBe(1);
    const lines = jsonLines<CaptionResult & { type?: string }>(result.stdout).filter((line) => line.type === undefined);
    const byImage = Object.fromEntries(lines.map((line) => [line.image, line]));
    expect(byImage[good]).toMatchObject({ caption: expect.any(String), error: null });
    expect(byImage[truncatedPng]!.error).toMatch(new RegExp(`^${truncatedPng}: truncated: the file ends before the image does`));
    expect(byImage[empty]!.error).toBe(`${empty}: empty file (0 bytes)`);
    expect(byImage[text]!.error).toBe(`${text}: not an image: its contents are not a supported format (JPEG, PNG, WebP, GIF, TIFF, AVIF, HEIF)`);
    expect(byImage[missing]!.error).toBe(`${missing}: file not found`);
    for (const line of lines) expect(line.error ?? '').not.toMatch(/unknown error|unsupported image format/i);
    expect(result.stderr).toContain('4 of 5 images could not be captioned');
  }, 240_000);
});
