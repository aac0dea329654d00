/**
 * Reviewing a batch job through the API (what the Batch page does), with the
 * real engine and a tiny trained run: preview before starting, run, the
 * least confident first, text and failure filters, an edit in place,
 * re-captioning a selection with other decoding, writing the reviewed
 * captions to caption files and CSV, stop and resume through the API, and
 * deletion.
 */
import { cpSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withWorkbench, type CliContext } from '../../src/main/cli/context';
import type { BatchJobResult, BatchProgress } from '../../src/shared/batchTypes';
import type { TaskRecord } from '../../src/shared/taskTypes';
import { writeBatchFolder, type BatchFolder } from '../helpers/batchFolder';
import { imageBuffer, tempDir, write } from '../helpers/datasetFixtures';
import { trainTinyRun, type TrainedRun } from '../helpers/trainedRun';

let run: TrainedRun;
let work: string;
let cleanup: () => void;
let folder: BatchFolder;

beforeAll(async () => {
  run = await trainTinyRun({ images: 12, seed: 7 });
  ({ dir: work, cleanup } = tempDir('captioner-batch-review-'));
  folder = await writeBatchFolder(join(work, 'tree'));
}, 240_000);
afterAll(() => cleanup());

/** Follows a job's task to its end, collecting the job's progress reports. */
async function followJob(cli: CliContext, start: () => Promise<{ jobId: number; taskId: number | null }>, onProgress?: (progress: BatchProgress) => void): Promise<TaskRecord> {
  const detach = cli.workbench.services.bus.attach((event, payload) => {
    if (event === 'batch.progress') onProgress?.(payload as BatchProgress);
  });
  try {
    const { taskId } = await start();
    return await cli.workbench.services.tasks.wait(taskId!);
  } finally {
    detach();
  }
}

describe('batch review through the API', () => {
  it('previews, runs, sorts by confidence, filters, edits, re-captions and writes the reviewed captions', async () => {
    const root = join(work, 'review');
    cpSync(folder.root, root, { recursive: true });
    const csv = join(work, 'review.csv');
    await withWorkbench({ dataDir: run.dataDir, quiet: true }, async (cli) => {
      const model = { runId: run.runId, checkpoint: 'best' as const };
      const input = { folder: root, recursive: true };
      const preview = await cli.call('batch.preview', { input, model, decoding: { strategy: 'greedy' }, count: 3 });
      expect(preview.items).toHaveLength(3);
      expect(preview.decoding.strategy).toBe('greedy');
      expect(preview.items.filter((item) => item.outcome === 'captioned').every((item) => typeof item.caption === 'string' && item.confidence! <= 0)).toBe(true);
      // Under the skip policy the preview shows what the job would caption: 'b.png' has a caption file, so it is
      // passed over (listed as skipped) and the next image is captioned in its place.
      const skipping = await cli.call('batch.preview', { input, model, decoding: { strategy: 'greedy' }, count: 3, sidecar: { ext: 'txt', existing: 'skip' } });
      expect(skipping.items.map((item) => [item.relativePath, item.outcome])).toEqual([
        ['a.jpg', 'captioned'],
        ['broken.jpg', 'failed'],
        ['c.webp', 'captioned'],
        ['b.png', 'skipped'],
      ]);
      expect(skipping.items[3]!.error).toBe(`caption file exists: ${join(root, 'b.txt')}`);
      expect(skipping.counts).toMatchObject({ captioned: 2, failed: 1, skippedExisting: 1 });
      expect(skipping.existingCaptionFiles).toEqual([]);
      // Under overwrite it is captioned, and marked as having a caption file the job will replace.
      const overwriting = await cli.call('batch.preview', { input, model, decoding: { strategy: 'greedy' }, count: 3, sidecar: { existing: 'overwrite' } });
      expect(overwriting.items.map((item) => item.relativePath)).toEqual(['a.jpg', 'b.png', 'broken.jpg']);
      expect(overwriting.existingCaptionFiles).toEqual([join(root, 'b.png')]);
      await expect(cli.call('batch.preview', { input, model, decoding: {}, count: 3, sidecar: { ext: 'a/b' } })).rejects.toThrow(/^sidecar\.ext: .*must be a file extension/);
      // A preview creates no job and writes nothing.
      expect(await cli.call('batch.list', {})).toEqual([]);
      expect(readFileSync(join(root, 'b.txt'), 'utf8')).toBe(folder.existingSidecars['b.png']);

      const reports: BatchProgress[] = [];
      let jobId = 0;
      const finished = await followJob(
        cli,
        async () => {
          const created = await cli.call('batch.create', { input, model, decoding: { strategy: 'greedy' }, outputs: { sidecar: { existing: 'overwrite' }, csv }, batchSize: 4 });
          jobId = created.id;
          return { jobId: created.id, taskId: created.taskId };
        },
        (progress) => reports.push(progress),
      );
      const job = { id: jobId };
      expect(finished.state).toBe('completed');
      expect((finished.result as unknown as BatchJobResult).status).toBe('completed');
      expect(reports.length).toBeGreaterThan(1);
      expect(reports.at(-1)!.done).toBe(folder.readable.length + folder.corrupt.length);
      expect(reports.at(-1)!.imagesPerSecond).toBeGreaterThan(0);

      // Least confident first; unscored failures at the end.
      const ascending = await cli.call('batch.items', { jobId: job.id, sort: 'confidence-asc' });
      const scores = ascending.items.filter((item) => item.confidence !== null).map((item) => item.confidence!);
      expect(scores).toEqual([...scores].sort((a, b) => a - b));
      expect(ascending.items.slice(-folder.corrupt.length).every((item) => item.outcome === 'failed')).toBe(true);
      const failures = await cli.call('batch.items', { jobId: job.id, failuresOnly: true });
      expect(failures.items.map((item) => item.relativePath).sort()).toEqual(folder.corrupt);
      const word = ascending.items[0]!.caption!.split(' ')[0]!;
      const searched = await cli.call('batch.items', { jobId: job.id, search: word });
      expect(searched.items.length).toBeGreaterThan(0);
      expect(searched.items.every((item) => item.caption!.includes(word) || item.relativePath.includes(word))).toBe(true);

      // Edit the least confident caption; the caption file and CSV get it when outputs are written.
      const target = ascending.items[0]!;
      const edited = await cli.call('batch.edit', { jobId: job.id, path: target.path, caption: 'a reviewed caption, with a comma' });
      expect(edited.editedCaption).toBe('a reviewed caption, with a comma');
      const sidecar = target.path.replace(/\.[^.]+$/, '.txt');
      expect(readFileSync(sidecar, 'utf8')).toBe(target.caption);
      const written = await cli.call('batch.writeOutputs', { jobId: job.id });
      expect(written).toMatchObject({ csv, sidecars: folder.readable.length });
      expect(readFileSync(sidecar, 'utf8')).toBe('a reviewed caption, with a comma');
      expect(readFileSync(csv, 'utf8')).toContain(`${target.path},"a reviewed caption, with a comma",`);
      await expect(cli.call('batch.edit', { jobId: job.id, path: target.path, caption: '  ' })).rejects.toThrow(/may not be empty/);

      // Re-caption two images with beam search: new captions, review cleared, caption file rewritten on the next write.
      const chosen = [target.path, ascending.items[1]!.path];
      const recaptioned = await cli.call('batch.recaption', { jobId: job.id, paths: chosen, decoding: { strategy: 'beam', beamWidth: 3 } });
      expect(recaptioned.map((item) => item.path)).toEqual(chosen);
      expect(recaptioned.every((item) => item.editedCaption === null && item.outcome === 'captioned')).toBe(true);
      await cli.call('batch.writeOutputs', { jobId: job.id });
      expect(readFileSync(sidecar, 'utf8')).toBe(recaptioned[0]!.caption);
      await expect(cli.call('batch.recaption', { jobId: job.id, paths: [join(root, 'nope.jpg')], decoding: {} })).rejects.toThrow(/Not in batch job/);

      const shown = await cli.call('batch.get', { jobId: job.id });
      expect(shown.counts).toMatchObject({ captioned: folder.readable.length, failed: folder.corrupt.length });
      await cli.call('batch.delete', { jobId: job.id });
      expect(await cli.call('batch.list', {})).toEqual([]);
      // The files it wrote stay.
      expect(readFileSync(sidecar, 'utf8')).toBe(recaptioned[0]!.caption);
    });
  }, 240_000);

  it('stops after the current batch through the API and resumes with the images still missing', async () => {
    const root = join(work, 'stop');
    const png = await imageBuffer('png', { width: 20, height: 16 });
    // Enough images that the job outlasts the progress report the stop waits for, on a fast idle machine too.
    const images = 300;
    for (let i = 0; i < images; i++) write(join(root, `img-${String(i).padStart(3, '0')}.png`), png);
    const jsonl = join(work, 'stop.jsonl');
    await withWorkbench({ dataDir: run.dataDir, quiet: true }, async (cli) => {
      let jobId = 0;
      let asked = false;
      const first = await followJob(
        cli,
        async () => {
          const created = await cli.call('batch.create', { input: { folder: root }, model: { runId: run.runId, checkpoint: 'last' }, decoding: { strategy: 'beam', beamWidth: 2 }, outputs: { jsonl }, batchSize: 2 });
          jobId = created.id;
          return { jobId: created.id, taskId: created.taskId };
        },
        (progress) => {
          if (!asked && progress.done >= 4) {
            asked = true;
            void cli.call('batch.stop', { jobId });
          }
        },
      );
      const job = { id: jobId };
      expect(first.state).toBe('cancelled');
      const stopped = first.result as unknown as BatchJobResult;
      expect(stopped.status).toBe('stopped');
      expect(stopped.counts.captioned).toBeLessThan(images);
      expect((await cli.call('batch.get', { jobId: job.id })).status).toBe('stopped');
      await expect(cli.call('batch.recaption', { jobId: job.id, paths: [join(root, 'img-000.png')], decoding: {} })).resolves.toHaveLength(1);

      const second = await followJob(cli, () => cli.call('batch.resume', { jobId: job.id }));
      expect(second.state).toBe('completed');
      const done = second.result as unknown as BatchJobResult;
      expect(done).toMatchObject({ status: 'completed', counts: { captioned: images }, captionedNow: images - stopped.counts.captioned });
      expect(readFileSync(jsonl, 'utf8').trim().split('\n')).toHaveLength(images);
      await expect(cli.call('batch.resume', { jobId: job.id })).rejects.toThrow(/complete/);
    });
  }, 240_000);
});
