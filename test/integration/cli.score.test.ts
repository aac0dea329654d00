/** `captioner score` end to end: argument parsing, the validated API, the real engine process. */
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { ScoreReport } from '../../src/shared/inferenceTypes';
import { scoreFiles } from '../../src/main/lib/eval/scoreFiles';
import { cocoAnnotations, karpathyJson, RAW_RESULTS, tempDir, writeJson } from '../helpers/evalFixtures';
import { runCli } from '../helpers/runCli';

describe('captioner score', () => {
  afterEach(() => vi.restoreAllMocks());

  it('prints every metric as JSON, equal to scoring the files directly', async () => {
    const dir = tempDir();
    const refs = writeJson(dir, 'dataset_coco.json', karpathyJson());
    const results = writeJson(dir, 'results.json', RAW_RESULTS);
    const { code, stdout, stderr } = await runCli(['score', '--refs', refs, '--results', results, '--json', '--data-dir', dir]);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const report = JSON.parse(stdout) as ScoreReport;
    expect(report.aggregate).toEqual((await scoreFiles({ refs, results, perImage: false })).aggregate);
    expect(Object.keys(report.aggregate).sort()).toEqual(['bleu1', 'bleu2', 'bleu3', 'bleu4', 'ciderD', 'rougeL']);
    expect(report.refs.format).toBe('karpathy');
  });

  it('prints a readable table with the METEOR/SPICE note, and errors that name the file and JSON path', async () => {
    const dir = tempDir();
    const refs = writeJson(dir, 'captions_val2014.json', cocoAnnotations());
    const results = writeJson(dir, 'results.json', RAW_RESULTS);
    const text = await runCli(['score', '--refs', refs, '--results', results, '--data-dir', dir]);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/BLEU-4\s+0\.\d{4}/);
    expect(text.stdout).toMatch(/CIDEr-D\s+\d+\.\d{4}/);
    expect(text.stdout).toContain('METEOR: not computed');
    expect(text.stdout).toContain('SPICE: not computed');

    const bad = writeJson(dir, 'bad.json', [{ image_id: 42, caption: 'a dog' }, { image_id: 73 }]);
    const failed = await runCli(['score', '--refs', refs, '--results', bad, '--data-dir', dir]);
    expect(failed.code).toBe(1);
    expect(failed.stderr).toContain(`${bad}: $[1]: missing the field "caption".`);

    const usage = await runCli(['score', '--refs', refs]);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain('--results is required');
  });
});
