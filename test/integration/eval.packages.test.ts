/**
 * Evaluation and model packages end to end, on one tiny trained run (a small
 * Shapes set, one short epoch, pure-JS backend):
 *
 * - `captioner eval`: the real engine process captions the test split; the
 *   evaluation is stored with what produced it, and its COCO results file
 *   scores identically with `captioner score`; Ctrl-C (jobs.cancel) stops it.
 * - Model packages: export, import, and the same captions from the
 *   checkpoint (in this process), from the package through `captioner
 *   caption` (the engine process), and from the package's own caption.mjs (a
 *   plain Node process with tfjs and sharp).
 *
 * Everything runs on the pure-JS backend, so all paths compute on the same
 * kernels and must agree word for word.
 */
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { captionFiles } from '../../src/main/ml/captioning/captionImages';
import { completeDecoding } from '../../src/main/ml/captioning/decoding';
import { loadCheckpointModel } from '../../src/main/ml/captioning/model';
import type { CaptionResult, EvaluationDetail, EvaluationSummary, ModelPackageInfo, ScoreReport } from '../../src/shared/inferenceTypes';
import { withWorkbench } from '../../src/main/cli/context';
import { dispatchOnce } from '../helpers/apiCall';
import { tempDir } from '../helpers/evalFixtures';
import { jsonLines, runCli } from '../helpers/runCli';
import { trainTinyRun, type TrainedRun } from '../helpers/trainedRun';

const run$ = promisify(execFile);

let run: TrainedRun;
let images: string[];
const previousBackend = process.env.CAPTIONER_BACKEND;

beforeAll(async () => {
  // The engine the CLI starts inherits this: every path below computes on the same pure-JS kernels.
  process.env.CAPTIONER_BACKEND = 'cpu';
  run = await trainTinyRun({ images: 12, seed: 5 });
  const imageDir = join(run.datasetDir, 'Images');
  images = readdirSync(imageDir)
    .sort()
    .slice(0, 3)
    .map((name) => join(imageDir, name));
}, 240_000);

afterAll(() => {
  if (previousBackend === undefined) delete process.env.CAPTIONER_BACKEND;
  else process.env.CAPTIONER_BACKEND = previousBackend;
});

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

  it('stops cleanly when the task is stopped, and stores nothing', async () => {
    const before = (await dispatchOnce(run.dataDir, 'eval.list', { runId: run.runId })).length;
    const finished = await withWorkbench({ dataDir: run.dataDir, quiet: true }, async (cli) => {
      const { taskId } = await cli.call('eval.start', { runId: run.runId, split: 'train', batchSize: 1 });
      expect(await cli.call('tasks.stop', { taskId })).toEqual({ stopping: true });
      return cli.workbench.services.tasks.wait(taskId);
    });
    expect(finished.state).toBe('cancelled');
    expect(await dispatchOnce(run.dataDir, 'eval.list', { runId: run.runId })).toHaveLength(before);
  });

  it('names the decoding the run recommends when its flags leave it out (eval and batch), and applies only what the flags say', async () => {
    const recommending = await trainTinyRun({ images: 12, seed: 5, decoding: { converseConsensus: true, relationSearch: true } });
    const plain = await runCli(['eval', '--run', String(recommending.runId), '--limit', '2', '--beam', '2', '--data-dir', recommending.dataDir]);
    expect(plain.code, plain.stderr).toBe(0);
    expect(plain.stdout).toMatch(/decoding: beam 2, /);
    expect(plain.stdout).not.toMatch(/decoding: [^\n]*consensus/);
    expect(plain.stdout).toContain("Run's recommended decoding not used here: add --converse-consensus --relation-search");
    const partly = await runCli(['eval', '--run', String(recommending.runId), '--limit', '2', '--beam', '2', '--converse-consensus', '--data-dir', recommending.dataDir]);
    expect(partly.stdout).toMatch(/add --relation-search \(or --recommended\) to decode/);
    const followed = await runCli(['eval', '--run', String(recommending.runId), '--limit', '2', '--beam', '2', '--converse-consensus', '--relation-search', '--data-dir', recommending.dataDir]);
    expect(followed.code, followed.stderr).toBe(0);
    expect(followed.stdout).not.toContain('recommended decoding');
    // A run that recommends nothing gets no such line.
    const other = await runCli(['eval', '--run', String(run.runId), '--limit', '2', '--beam', '2', '--data-dir', run.dataDir]);
    expect(other.stdout).not.toContain('recommended decoding');
    // captioner batch with the run as its model says the same, on stderr beside its progress.
    const folder = join(recommending.datasetDir, 'Images');
    const batch = await runCli(['batch', folder, '--run', String(recommending.runId), '--greedy', '--relation-search', '--csv', join(tempDir('captioner-note-'), 'c.csv'), '--data-dir', recommending.dataDir]);
    expect(batch.code, batch.stderr).toBe(0);
    expect(batch.stderr).toContain("Run's recommended decoding not used here: add --converse-consensus (or --recommended) to decode as it recommends.");
  }, 240_000);

  it('decodes as the run recommends with --recommended (eval and batch), and refuses it where it cannot apply', async () => {
    const recommending = await trainTinyRun({ images: 12, seed: 5, decoding: { converseConsensus: true, relationSearch: true } });
    const asRecommended = await runCli(['eval', '--run', String(recommending.runId), '--limit', '2', '--beam', '2', '--recommended', '--data-dir', recommending.dataDir]);
    expect(asRecommended.code, asRecommended.stderr).toBe(0);
    expect(asRecommended.stdout).toMatch(/decoding: beam 2, [^\n]*, converse consensus, relation search\n/);
    expect(asRecommended.stdout).not.toContain('recommended decoding');
    // The flags given are kept: --recommended adds to them.
    const withMore = await runCli(['eval', '--run', String(recommending.runId), '--limit', '2', '--greedy', '--recommended', '--json', '--data-dir', recommending.dataDir]);
    expect(withMore.code, withMore.stderr).toBe(0);
    const summary = JSON.parse(withMore.stdout.trim().split('\n').pop()!) as { decoding: Record<string, unknown> };
    expect(summary.decoding).toMatchObject({ strategy: 'greedy', converseConsensus: true, relationSearch: true });
    expect(summary.decoding['mirrorConsensus']).not.toBe(true);
    // A run that recommends nothing decodes as the flags say.
    const nothing = await runCli(['eval', '--run', String(run.runId), '--limit', '2', '--beam', '2', '--recommended', '--data-dir', run.dataDir]);
    expect(nothing.code, nothing.stderr).toBe(0);
    expect(nothing.stdout).not.toMatch(/decoding: [^\n]*(consensus|relation search)/);

    const sampled = await runCli(['eval', '--run', String(recommending.runId), '--limit', '2', '--sample', '--recommended', '--data-dir', recommending.dataDir]);
    expect(sampled.code).toBe(2);
    expect(sampled.stderr).toContain('--recommended');
    expect(sampled.stderr).toContain('not with --sample');

    const folder = join(recommending.datasetDir, 'Images');
    const csv = join(tempDir('captioner-recommended-'), 'c.csv');
    const batch = await runCli(['batch', folder, '--run', String(recommending.runId), '--greedy', '--recommended', '--csv', csv, '--json', '--data-dir', recommending.dataDir]);
    expect(batch.code, batch.stderr).toBe(0);
    const jobId = (JSON.parse(batch.stdout.trim().split('\n').pop()!) as { jobId: number }).jobId;
    const job = await dispatchOnce(recommending.dataDir, 'batch.get', { jobId });
    expect(job.decoding).toMatchObject({ strategy: 'greedy', converseConsensus: true, relationSearch: true });
    const packaged = await runCli(['batch', folder, '--model', join(recommending.dataDir, 'no-such-package'), '--recommended', '--csv', csv, '--data-dir', recommending.dataDir]);
    expect(packaged.code).toBe(2);
    expect(packaged.stderr).toContain('--recommended goes with --run');
  }, 240_000);

  it('says which checkpoints exist when the chosen one does not', async () => {
    const failed = await runCli(['eval', '--run', String(run.runId), '--checkpoint', '99', '--data-dir', run.dataDir]);
    expect(failed.code).toBe(1);
    expect(failed.stderr).toMatch(/has no checkpoint after epoch 99 \(epochs with one: /);
  });
});

describe('model packages', () => {
  it('export, import, and the same captions from the checkpoint, the package and caption.mjs', async () => {
    const out = join(tempDir('captioner-export-'), 'tiny-model');
    const exported = await runCli(['export', String(run.runId), '--out', out, '--beam', '2', '--json', '--data-dir', run.dataDir]);
    expect(exported.stderr).toBe('');
    expect(exported.code).toBe(0);
    const info = JSON.parse(exported.stdout) as ModelPackageInfo;
    expect(info.decoding).toMatchObject({ strategy: 'beam', beamWidth: 2 });
    for (const file of ['config.json', 'vocab.json', 'metrics.json', 'README.md', 'caption.mjs', 'decoder/model.json', 'encoder/model.json']) {
      expect(info.files).toContain(file);
    }
    const decoderJson = JSON.parse(readFileSync(join(out, 'decoder', 'model.json'), 'utf8')) as { weightsManifest: { weights: { name: string }[] }[] };
    expect(decoderJson.weightsManifest[0]!.weights.map((w) => w.name)).toContain('output/kernel');

    // Import under a name, then caption by name and by folder.
    const imported = await runCli(['models', 'import', out, '--name', 'tiny', '--json', '--data-dir', run.dataDir]);
    expect(imported.code).toBe(0);
    expect((JSON.parse(imported.stdout) as ModelPackageInfo).path).toBe(join(run.dataDir, 'models', 'tiny'));
    const listed = await runCli(['models', 'list', '--json', '--data-dir', run.dataDir]);
    expect(jsonLines<ModelPackageInfo>(listed.stdout).map((model) => model.name)).toEqual(['tiny']);

    const byName = await runCli(['caption', '--model', 'tiny', ...images, '--json', '--data-dir', run.dataDir]);
    expect(byName.code).toBe(0);
    const fromImported = jsonLines<CaptionResult>(byName.stdout);
    expect(fromImported.map((result) => result.image)).toEqual(images);
    for (const result of fromImported) {
      expect(result.error).toBeNull();
      expect(result.caption).toEqual(expect.any(String));
    }
    const byFolder = await runCli(['caption', '--model', out, ...images, '--json', '--data-dir', run.dataDir]);
    expect(jsonLines<CaptionResult>(byFolder.stdout).map((result) => result.caption)).toEqual(fromImported.map((result) => result.caption));

    // The checkpoint itself, with the package's decoding: the same words.
    const model = await loadCheckpointModel(run.bestCheckpoint, { dataDir: run.dataDir });
    try {
      const direct = await captionFiles(model, images, completeDecoding({ strategy: 'beam', beamWidth: 2 }, model.maxCaptionLength));
      expect(direct.map((result) => result.caption)).toEqual(fromImported.map((result) => result.caption));
    } finally {
      model.dispose();
    }

    // caption.mjs, run as a user would, on @tensorflow/tfjs (pure JavaScript).
    const script = await run$(process.execPath, [join(out, 'caption.mjs'), ...images, '--json', '--pure-js'], { cwd: process.cwd() });
    const fromScript = jsonLines<{ image: string; caption: string }>(script.stdout);
    expect(fromScript.map((result) => result.caption)).toEqual(fromImported.map((result) => result.caption));
    expect(script.stderr).toContain('using @tensorflow/tfjs');
    // And with greedy decoding, against `captioner caption --greedy`.
    const greedyCli = await runCli(['caption', '--model', 'tiny', ...images, '--greedy', '--json', '--data-dir', run.dataDir]);
    const greedyScript = await run$(process.execPath, [join(out, 'caption.mjs'), ...images, '--greedy', '--json', '--pure-js'], { cwd: process.cwd() });
    expect(jsonLines<{ caption: string }>(greedyScript.stdout).map((r) => r.caption)).toEqual(jsonLines<CaptionResult>(greedyCli.stdout).map((r) => r.caption));
  });

  it('refuses to overwrite a package without --force and names a damaged package\'s file and field', async () => {
    const out = join(tempDir('captioner-export-'), 'pkg');
    expect((await runCli(['export', String(run.runId), '--out', out, '--data-dir', run.dataDir])).code).toBe(0);
    const again = await runCli(['export', String(run.runId), '--out', out, '--data-dir', run.dataDir]);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/exists and is not empty/);
    expect(existsSync(join(out, 'config.json'))).toBe(true);

    const config = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8')) as { decoder: { units: unknown } };
    config.decoder.units = 'many';
    writeFileSync(join(out, 'config.json'), JSON.stringify(config));
    const broken = await runCli(['models', 'import', out, '--data-dir', run.dataDir]);
    expect(broken.code).toBe(1);
    expect(broken.stderr).toContain(`${join(out, 'config.json')}: $.decoder.units:`);
  });
});
