/**
 * Model packages end to end: train a tiny model, export it, import it, and
 * caption the same images three ways: the checkpoint (in this process), the
 * package through `captioner caption` (the engine process), and the
 * package's own caption.mjs (a plain Node process with tfjs and sharp). All
 * three run on the pure-JS backend, so they must agree word for word.
 */
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { main } from '../../src/main/cli';
import { captionFiles } from '../../src/main/engine/captioning/captionImages';
import { completeDecoding } from '../../src/main/engine/captioning/decoding';
import { loadCheckpointModel } from '../../src/main/engine/captioning/model';
import type { CaptionResult, ModelPackageInfo } from '../../src/shared/inferenceTypes';
import { tempDir } from '../helpers/evalFixtures';
import { trainTinyRun, type TrainedRun } from '../helpers/trainedRun';

const run$ = promisify(execFile);

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

const jsonLines = <T>(text: string): T[] =>
  text
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as T);

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
}, 180_000);

afterAll(() => {
  if (previousBackend === undefined) delete process.env.CAPTIONER_BACKEND;
  else process.env.CAPTIONER_BACKEND = previousBackend;
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
