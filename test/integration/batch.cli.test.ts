/**
 * `captioner batch` end to end, with the real engine process and a tiny
 * trained run, over a folder tree holding every image type, corrupt and
 * non-image files, names with spaces and Unicode, nested folders and
 * existing caption files:
 *
 * - every output format (caption files, CSV, JSONL, COCO) and the counts;
 * - the skip, overwrite and append policies for existing caption files;
 * - a package and the run's checkpoint caption alike; globs select images;
 * - kill -9 of the whole process group in the middle of a job, then
 *   `--resume` captions exactly the images still missing, once each;
 * - `batch list` and `batch show` (failures with reasons).
 */
import { spawn } from 'node:child_process';
import { cpSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseDelimited } from '../../src/main/lib/data/readers/delimited';
import { withWorkbench } from '../../src/main/cli/context';
import { openSqliteStore } from '../../src/main/store/sqliteStore';
import type { BatchJobResult, BatchJobSummary } from '../../src/shared/batchTypes';
import { writeBatchFolder, type BatchFolder } from '../helpers/batchFolder';
import { imageBuffer, tempDir, write } from '../helpers/datasetFixtures';
import { jsonLines, runCli } from '../helpers/runCli';
import { trainTinyRun, type TrainedRun } from '../helpers/trainedRun';

let run: TrainedRun;
let work: string;
let cleanup: () => void;
let folder: BatchFolder;

beforeAll(async () => {
  run = await trainTinyRun({ images: 12, seed: 6 });
  ({ dir: work, cleanup } = tempDir('captioner-batch-cli-'));
  folder = await writeBatchFolder(join(work, 'tree'));
}, 240_000);
afterAll(() => cleanup());

type Line = { type: 'progress' | 'result' } & Record<string, unknown>;
const result = (stdout: string) => jsonLines<Line>(stdout).find((line) => line.type === 'result') as unknown as BatchJobResult & { error?: string };
const sidecarOf = (root: string, relative: string) => join(root, relative.replace(/\.[^.]+$/, '.txt'));


/**
 * Starts `captioner batch ARGS --json` in its own process group and kills the
 * group with SIGKILL at the first progress line that counts stored results
 * (progress comes once a second: a job of a few hundred images is then still
 * running, even on a machine several times faster than ours).
 */
async function killMidway(args: string[]): Promise<number> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(process.cwd(), 'src', 'main', 'cli', 'index.ts'), ...args], {
    env: { ...process.env, CAPTIONER_CLI: '1' },
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let killed = false;
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
    const lines = jsonLines<{ type: string; done?: number }>(stdout.slice(0, stdout.lastIndexOf('\n') + 1));
    if (!killed && lines.some((line) => line.type === 'progress' && (line.done ?? 0) > 0)) {
      killed = true;
      // The CLI and its engine, at once, with no chance to clean up.
      process.kill(-child.pid!, 'SIGKILL');
    }
  });
  child.stderr.resume();
  await new Promise<void>((resolve) => child.on('exit', () => resolve()));
  expect(killed).toBe(true);
  return jsonLines<{ jobId: number }>(stdout.slice(0, stdout.lastIndexOf('\n')))[0]!.jobId;
}

describe('captioner batch', () => {
  it('captions a tree into caption files, CSV, JSONL and COCO, skipping existing caption files, recording failures', async () => {
    const root = join(work, 'all');
    cpSync(folder.root, root, { recursive: true });
    const out = (name: string) => join(work, name);
    const args = ['batch', root, '--run', String(run.runId), '--recursive', '--sidecar', '--csv', out('all.csv'), '--jsonl', out('all.jsonl'), '--coco', out('all.json')];
    const ran = await runCli([...args, '--greedy', '--batch-size', '4', '--json', '--data-dir', run.dataDir]);
    expect(ran.code).toBe(0);
    const lines = jsonLines<Line>(ran.stdout);
    expect(lines.filter((line) => line.type === 'progress').length).toBeGreaterThan(0);
    expect(lines.at(-1)!.type).toBe('result');
    const final = result(ran.stdout);
    const skipped = Object.keys(folder.existingSidecars);
    const captioned = folder.readable.filter((path) => !skipped.includes(path));
    expect(final).toMatchObject({
      status: 'completed',
      counts: { total: folder.readable.length + folder.corrupt.length, captioned: captioned.length, skippedExisting: skipped.length, failed: folder.corrupt.length, ignored: folder.notImages.length + skipped.length },
      outputs: { sidecars: captioned.length, csv: out('all.csv'), jsonl: out('all.jsonl'), coco: out('all.json') },
      captionedNow: captioned.length,
    });

    // JSONL: one line per captioned image, with score, model and decoding.
    const jsonl = readFileSync(out('all.jsonl'), 'utf8').trim().split('\n').map((line) => JSON.parse(line) as { path: string; caption: string; score: number; model: string; decoding: string });
    expect(jsonl.map((line) => line.path).sort()).toEqual(captioned.map((path) => join(root, path)).sort());
    for (const line of jsonl) {
      expect(line.caption).toMatch(/\S/);
      expect(line.score).toBeLessThanOrEqual(0);
      expect(line.model).toContain(`run ${run.runId}`);
      expect(line.decoding).toMatch(/^greedy/);
      // Each caption file holds exactly the caption of its image.
      expect(readFileSync(sidecarOf(root, line.path.slice(root.length + 1)), 'utf8')).toBe(line.caption);
    }
    // Existing caption files are untouched, and failed images get none.
    for (const [image, text] of Object.entries(folder.existingSidecars)) expect(readFileSync(sidecarOf(root, image), 'utf8')).toBe(text);
    for (const image of folder.corrupt) expect(existsSync(sidecarOf(root, image))).toBe(false);

    // CSV: the same rows; COCO: keyed by relative path.
    const csv = parseDelimited(readFileSync(out('all.csv'), 'utf8'), out('all.csv'), ',').map((record) => record.fields);
    expect(csv[0]).toEqual(['path', 'caption', 'score', 'model', 'decoding']);
    expect(csv.slice(1).map((row) => [row[0], row[1]])).toEqual(jsonl.map((line) => [line.path, line.caption]));
    const coco = JSON.parse(readFileSync(out('all.json'), 'utf8')) as { image_id: string; caption: string }[];
    expect(coco.map((entry) => entry.image_id).sort()).toEqual([...captioned].sort());

    // show: counts, outputs and each failure with its reason; list: the job.
    const shown = await runCli(['batch', 'show', String(final.jobId), '--json', '--data-dir', run.dataDir]);
    expect(shown.code).toBe(0);
    const detail = JSON.parse(shown.stdout) as BatchJobSummary & { failures: { path: string; error: string }[] };
    expect(detail.status).toBe('completed');
    expect(detail.failures.map((failure) => failure.path).sort()).toEqual(folder.corrupt.map((path) => join(root, path)).sort());
    for (const failure of detail.failures) expect(failure.error).toMatch(/^(corrupt image data|truncated|not an image): /);
    const listed = await runCli(['batch', 'list', '--json', '--data-dir', run.dataDir]);
    expect(jsonLines<BatchJobSummary>(listed.stdout).map((job) => job.id)).toContain(final.jobId);
    const text = await runCli(['batch', 'show', String(final.jobId), '--data-dir', run.dataDir]);
    expect(text.stdout).toContain('Failures:');
    expect(text.stdout).toContain('broken.jpg');
  }, 240_000);

  it('overwrites or appends to existing caption files only when told, with prefix and suffix', async () => {
    for (const policy of ['overwrite', 'append'] as const) {
      const root = join(work, policy);
      cpSync(folder.root, root, { recursive: true });
      const ran = await runCli(['batch', root, '--run', String(run.runId), '--recursive', '--sidecar', '--existing', policy, '--prefix', 'photo: ', '--suffix', '.', '--jsonl', join(work, `${policy}.jsonl`), '--greedy', '--json', '--data-dir', run.dataDir]);
      expect(ran.code).toBe(0);
      expect(result(ran.stdout).counts).toMatchObject({ captioned: folder.readable.length, skippedExisting: 0 });
      const captions = new Map(
        readFileSync(join(work, `${policy}.jsonl`), 'utf8').trim().split('\n').map((line) => {
          const parsed = JSON.parse(line) as { path: string; caption: string };
          return [parsed.path.slice(root.length + 1), parsed.caption] as const;
        }),
      );
      for (const image of folder.readable) {
        const expected = `photo: ${captions.get(image)}.`;
        const existing = folder.existingSidecars[image];
        const content = readFileSync(sidecarOf(root, image), 'utf8');
        if (existing === undefined || policy === 'overwrite') expect(content).toBe(expected);
        else expect(content).toBe(`${existing}\n${expected}`);
      }
    }
  }, 240_000);

  it('a package and the checkpoint it came from caption alike; globs pick the images; bad requests name the field', async () => {
    const pkg = join(work, 'package');
    expect((await runCli(['export', String(run.runId), '--out', pkg, '--data-dir', run.dataDir])).code).toBe(0);
    const common = [folder.root, '--include', '*.png', '--include', '*.jpg', '--exclude', 'b*', '--greedy', '--json', '--data-dir', run.dataDir];
    const fromPackage = await runCli(['batch', ...common, '--model', pkg, '--jsonl', join(work, 'pkg.jsonl')]);
    const fromRun = await runCli(['batch', ...common, '--run', String(run.runId), '--checkpoint', 'best', '--jsonl', join(work, 'run.jsonl')]);
    expect(fromPackage.code).toBe(0);
    expect(fromRun.code).toBe(0);
    const read = (name: string) => readFileSync(join(work, name), 'utf8').trim().split('\n').map((line) => JSON.parse(line) as { path: string; caption: string });
    const pkgLines = read('pkg.jsonl');
    expect(pkgLines.map((line) => line.path.slice(folder.root.length + 1)).sort()).toEqual(['a.jpg', 'café 日本.png', 'photo with spaces.jpg']);
    expect(pkgLines.map((line) => [line.path, line.caption])).toEqual(read('run.jsonl').map((line) => [line.path, line.caption]));
    // b.png and broken.jpg by the exclude, c.webp to g.svg by the includes.
    expect(result(fromPackage.stdout).counts).toMatchObject({ captioned: 3, failed: 0, excluded: 7 });

    const noOutput = await runCli(['batch', folder.root, '--run', String(run.runId), '--data-dir', run.dataDir]);
    expect(noOutput.code).toBe(2);
    expect(noOutput.stderr).toMatch(/at least one output/);
    const badGlob = await runCli(['batch', folder.root, '--run', String(run.runId), '--include', '[a-', '--csv', join(work, 'x.csv'), '--data-dir', run.dataDir]);
    expect(badGlob.code).toBe(1);
    expect(badGlob.stderr).toMatch(/input\.include\[0\].*closing "\]"/);
    const missing = await runCli(['batch', join(work, 'nope'), '--run', String(run.runId), '--csv', join(work, 'x.csv'), '--data-dir', run.dataDir]);
    expect(missing.stderr).toMatch(/input\.folder: .*nope is not a folder/);
  }, 240_000);

  it('after kill -9 in the middle, --resume captions exactly the images still missing, each once', async () => {
    const root = join(work, 'killed');
    cpSync(folder.root, root, { recursive: true });
    const many = await imageBuffer('png', { width: 20, height: 16 });
    const extra = 400;
    for (let i = 0; i < extra; i++) write(join(root, 'many', `img ${String(i).padStart(3, '0')}.png`), many);
    const jsonl = join(work, 'killed.jsonl');
    const args = ['batch', root, '--run', String(run.runId), '--recursive', '--sidecar', '--existing', 'append', '--jsonl', jsonl, '--beam', '2', '--batch-size', '2', '--json', '--data-dir', run.dataDir];
    const jobId = await killMidway(args);

    const store = openSqliteStore({ dataDir: run.dataDir });
    const before = await store.batchReview.counts(jobId);
    const storedBefore = (await store.batchReview.donePaths(jobId)).length;
    // Opening the store finds its owner gone.
    expect((await store.batchJobs.get(jobId))!.status).toBe('crashed');
    await store.close();
    const total = folder.readable.length + folder.corrupt.length + extra;
    expect(storedBefore).toBeGreaterThan(0);
    expect(storedBefore).toBeLessThan(total);

    const resumed = await runCli(['batch', '--resume', String(jobId), '--json', '--data-dir', run.dataDir]);
    expect(resumed.code).toBe(0);
    const final = result(resumed.stdout);
    expect(final.status).toBe('completed');
    const allCaptioned = folder.readable.length + extra;
    expect(final.counts).toMatchObject({ total, captioned: allCaptioned, skippedExisting: 0, failed: folder.corrupt.length });
    // Exactly the images still missing were captioned now.
    expect(final.captionedNow).toBe(allCaptioned - before.captioned);

    // Each image once in the JSONL, and each caption file holds its caption exactly once.
    const lines = readFileSync(jsonl, 'utf8').trim().split('\n').map((line) => JSON.parse(line) as { path: string; caption: string });
    expect(new Set(lines.map((line) => line.path)).size).toBe(allCaptioned);
    expect(lines).toHaveLength(allCaptioned);
    for (const line of lines) {
      const relative = line.path.slice(root.length + 1);
      const existing = folder.existingSidecars[relative];
      expect(readFileSync(sidecarOf(root, relative), 'utf8')).toBe(existing === undefined ? line.caption : `${existing}\n${line.caption}`);
    }
  }, 300_000);

  it('after kill -9, the next start of the app continues the job by itself (crash rule: resume)', async () => {
    const root = join(work, 'restart');
    const png = await imageBuffer('png', { width: 20, height: 16 });
    const images = 400;
    for (let i = 0; i < images; i++) write(join(root, `img ${String(i).padStart(3, '0')}.png`), png);
    const jsonl = join(work, 'restart.jsonl');
    const jobId = await killMidway(['batch', root, '--run', String(run.runId), '--jsonl', jsonl, '--beam', '2', '--batch-size', '2', '--json', '--data-dir', run.dataDir]);

    // The app's workbench: its task runtime claims any queued work (scope "queue"), as the desktop app and serve mode do.
    const ended = await withWorkbench({ dataDir: run.dataDir, quiet: true, tasks: { scope: 'queue' } }, async (cli) => {
      const job = await cli.call('batch.get', { jobId });
      return cli.workbench.services.tasks.wait(job.taskId!);
    });
    expect(ended.state).toBe('completed');
    expect(ended.attempts).toBe(2);
    const result = ended.result as unknown as BatchJobResult;
    expect(result.counts).toMatchObject({ total: images, captioned: images, failed: 0 });
    expect(result.captionedNow).toBeLessThan(images);
    const lines = readFileSync(jsonl, 'utf8').trim().split('\n');
    expect(new Set(lines.map((line) => (JSON.parse(line) as { path: string }).path)).size).toBe(images);
    expect(lines).toHaveLength(images);
  }, 300_000);
});
