/**
 * `captioner eval` end to end: a tiny trained run, the real engine process
 * captioning its test split, the evaluation stored with what produced it,
 * and a COCO results file that `captioner score` scores identically.
 */
import { existsSync, readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { main } from '../../src/main/cli';
import type { EvaluationDetail, EvaluationSummary, ScoreReport } from '../../src/shared/inferenceTypes';
import { dispatchOnce } from '../helpers/apiCall';
import { trainTinyRun, type TrainedRun } from '../helpers/trainedRun';

async function runCli(argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const out = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => ((stdout += String(chunk)), true));
  const err = vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => ((stderr += String(chunk)), true));
  try {
    return { code: await main(argv), stdout, stderr };
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
}

let run: TrainedRun;

beforeAll(async () => {
  run = await trainTinyRun();
}, 180_000);

describe('captioner eval', () => {
  it('evaluates the best checkpoint on the test split and stores everything that produced the scores', async () => {
    const evaluated = await runCli(['eval', '--run', String(run.runId), '--split', 'test', '--beam', '2', '--json', '--data-dir', run.dataDir]);
    expect(evaluated.stderr).toBe('');
    expect(evaluated.code).toBe(0);
    const summary = JSON.parse(evaluated.stdout) as EvaluationSummary;
    expect(summary.split).toBe('test');
    expect(summary.images).toBeGreaterThan(0);
    expect(summary.decoding).toMatchObject({ strategy: 'beam', beamWidth: 2, maxLength: 12 });
    for (const value of Object.values(summary.aggregate)) expect(Number.isFinite(value)).toBe(true);
    // A Shapes dataset: the grounded accuracy comes with it.
    expect(summary.grounded?.images).toBe(summary.images);

    // The stored evaluation: items with captions, references and scores; the settings and definitions.
    const detail: EvaluationDetail = await dispatchOnce(run.dataDir, 'eval.get', { evaluationId: summary.evaluationId });
    expect(detail.evaluation.runId).toBe(run.runId);
    expect(detail.evaluation.split).toBe('test');
    expect(detail.evaluation.decoding).toMatchObject({ strategy: 'beam', beamWidth: 2 });
    expect(detail.evaluation.metricDefinitions).toMatchObject({ version: 'coco-caption-1', tokenization: { name: 'ptb-like-v1' } });
    expect(detail.items).toHaveLength(summary.images);
    expect(detail.items[0]!.references.length).toBeGreaterThan(0);
    expect(Object.keys(detail.items[0]!.scores).sort()).toEqual(['bleu1', 'bleu2', 'bleu3', 'bleu4', 'ciderD', 'rougeL']);
    expect(detail.evaluation.metricDefinitions).toMatchObject({ grounded: { scenesFile: `${run.datasetDir}/scenes.json` } });

    // The COCO results file scores the same against the dataset's Karpathy JSON.
    expect(existsSync(summary.resultsPath)).toBe(true);
    const results = JSON.parse(readFileSync(summary.resultsPath, 'utf8')) as { image_id: unknown; caption: string }[];
    expect(results).toHaveLength(summary.images);
    const scored = await runCli(['score', '--refs', `${run.datasetDir}/dataset_shapes.json`, '--results', summary.resultsPath, '--json', '--data-dir', run.dataDir]);
    expect(scored.code).toBe(0);
    const report = JSON.parse(scored.stdout) as ScoreReport;
    for (const [key, value] of Object.entries(summary.aggregate)) expect(report.aggregate[key as keyof typeof report.aggregate]).toBeCloseTo(value, 10);
  });

  it('says which checkpoints exist when the chosen one does not', async () => {
    const failed = await runCli(['eval', '--run', String(run.runId), '--checkpoint', '99', '--data-dir', run.dataDir]);
    expect(failed.code).toBe(1);
    expect(failed.stderr).toMatch(/has no checkpoint after epoch 99 \(epochs with one: /);
  });
});
