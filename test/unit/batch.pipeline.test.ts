/**
 * The batch pipeline and one engine pass of a batch job, on an untrained
 * model: the pipeline captions exactly what the plain loop (captionFiles)
 * does, records unreadable images, frees every tensor, and stops after the
 * batch in hand; a pass skips what is done, reports protected caption files
 * as skipped, counts what is not an image, and honours a limit (which
 * images the skip policy passes over do not count toward).
 */
import * as tf from '@tensorflow/tfjs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listFolder } from '../../src/main/lib/batch/listFolder';
import { captionJob, type CaptionJobItem, type CaptionJobReport } from '../../src/main/ml/batch/captionJob';
import { captionPipeline, type PipelineCaption, type PipelineImage } from '../../src/main/ml/batch/pipeline';
import { captionFiles } from '../../src/main/ml/captioning/captionImages';
import { completeDecoding } from '../../src/main/ml/captioning/decoding';
import type { InferenceModel } from '../../src/main/ml/captioning/model';
import type { DecodingSettings } from '../../src/shared/inferenceTypes';
import { randomInferenceModel } from '../helpers/batchModel';
import { writeBatchFolder, type BatchFolder } from '../helpers/batchFolder';
import { useTestBackend } from '../helpers/captionModel';
import { tempDir } from '../helpers/datasetFixtures';

let dir: string;
let cleanup: () => void;
let folder: BatchFolder;
let model: InferenceModel;
let images: PipelineImage[];
let decoding: DecodingSettings;

beforeAll(async () => {
  await useTestBackend();
  ({ dir, cleanup } = tempDir('captioner-batch-pipeline-'));
  folder = await writeBatchFolder(join(dir, 'tree'));
  model = randomInferenceModel();
  decoding = completeDecoding({ strategy: 'beam', beamWidth: 2 }, model.maxCaptionLength);
  images = [];
  for await (const entry of listFolder({ folder: folder.root, recursive: true, include: [], exclude: [] })) {
    if (entry.kind === 'image') images.push({ path: entry.path, relativePath: entry.relativePath });
  }
});
afterAll(() => {
  model.dispose();
  cleanup();
});

async function* from<T>(items: readonly T[]): AsyncGenerator<T> {
  for (const item of items) yield item;
}

async function all(iterable: AsyncIterable<PipelineCaption[]>): Promise<PipelineCaption[][]> {
  const out: PipelineCaption[][] = [];
  for await (const batch of iterable) out.push(batch);
  return out;
}

const never = new AbortController().signal;

describe('captionPipeline', () => {
  it('captions every image as the plain loop does, with errors for unreadable ones and a mean-log-prob confidence', async () => {
    const tensorsBefore = tf.memory().numTensors;
    const batches = await all(captionPipeline(model, from(images), decoding, { batchSize: 4, prefetch: 2 }));
    expect(tf.memory().numTensors).toBe(tensorsBefore);
    expect(batches.map((batch) => batch.length)).toEqual(images.map((_, i) => i).filter((i) => i % 4 === 0).map((i) => Math.min(4, images.length - i)));
    const results = batches.flat();
    expect(results.map((result) => result.path)).toEqual(images.map((image) => image.path));

    const loop = await captionFiles(model, images.map((image) => image.path), decoding, { batchSize: 4 });
    expect(results.map((result) => result.caption)).toEqual(loop.map((result) => result.caption));
    results.forEach((result, i) => {
      if (loop[i]!.logProb !== null) expect(result.logProb).toBeCloseTo(loop[i]!.logProb!, 4);
    });

    const failed = results.filter((result) => result.error !== null).map((result) => result.relativePath).sort();
    expect(failed).toEqual(folder.corrupt);
    for (const result of results) {
      if (result.error) {
        expect(result.caption).toBeNull();
        // The reason in the decoder's words; the item names the file already.
        expect(result.error).toMatch(/^(corrupt image data|truncated|not an image): /);
        expect(result.error).not.toContain(folder.root);
        continue;
      }
      expect(result.caption).toEqual(expect.any(String));
      // Words plus the closing <end>.
      expect(result.confidence).toBeCloseTo(result.logProb! / (result.tokens.length + 1), 6);
      expect(result.confidence).toBeLessThanOrEqual(0);
    }
  });

  it('stops after the batch in hand when the signal aborts', async () => {
    const controller = new AbortController();
    const seen: PipelineCaption[][] = [];
    for await (const batch of captionPipeline(model, from(images), decoding, { batchSize: 3, signal: controller.signal })) {
      seen.push(batch);
      controller.abort();
    }
    expect(seen).toHaveLength(1);
    expect(seen[0]!.map((result) => result.path)).toEqual(images.slice(0, 3).map((image) => image.path));
  });
});

describe('captionJob (one engine pass)', () => {
  async function pass(params: Partial<Parameters<typeof captionJob>[2]>) {
    const reports: CaptionJobReport[] = [];
    const outcome = await captionJob(
      model,
      decoding,
      { batchSize: 4, input: { folder: folder.root, recursive: true, include: [], exclude: [] }, images: null, done: [], skipExistingExt: null, limit: 0, ...params },
      { signal: never, report: (report) => reports.push(report) },
    );
    const items: CaptionJobItem[] = reports.flatMap((report) => report.items);
    return { outcome, reports, items, ignored: reports.reduce((sum, report) => sum + report.ignored, 0) };
  }

  it('reports every image once, skips protected caption files, and counts non-images', async () => {
    const { outcome, items, ignored } = await pass({ skipExistingExt: '.txt' });
    expect(items.map((item) => item.relativePath).sort()).toEqual([...folder.readable, ...folder.corrupt].sort());
    const skipped = items.filter((item) => item.outcome === 'skipped').map((item) => item.relativePath).sort();
    expect(skipped).toEqual(Object.keys(folder.existingSidecars).sort());
    expect(items.filter((item) => item.outcome === 'failed').map((item) => item.relativePath).sort()).toEqual(folder.corrupt);
    // The notes, the binary file and the two caption files.
    expect(ignored).toBe(folder.notImages.length + 2);
    expect(outcome).toMatchObject({ captioned: folder.readable.length - skipped.length, failed: folder.corrupt.length, skipped: skipped.length, stopped: false });
  });

  it('leaves out what is already done, and honours a limit', async () => {
    const done = images.slice(0, 5).map((image) => image.path);
    const resumed = await pass({ done });
    expect(resumed.items.map((item) => item.path).sort()).toEqual(images.slice(5).map((image) => image.path).sort());
    const preview = await pass({ limit: 3 });
    expect(preview.items.map((item) => item.path)).toEqual(images.slice(0, 3).map((image) => image.path));
  });

  it('counts toward a limit only the images it captions: a preview under the skip policy passes over protected ones', async () => {
    const protectedPaths = new Set(Object.keys(folder.existingSidecars));
    const { items, outcome } = await pass({ skipExistingExt: '.txt', limit: 3 });
    const captionedOrFailed = items.filter((item) => item.outcome !== 'skipped');
    // 'b.png' comes second in name order and has a caption file: the preview captions the next one instead.
    expect(captionedOrFailed.map((item) => item.relativePath)).toEqual(images.filter((image) => !protectedPaths.has(image.relativePath)).slice(0, 3).map((image) => image.relativePath));
    expect(items.filter((item) => item.outcome === 'skipped').map((item) => item.relativePath)).toEqual(['b.png']);
    expect(outcome).toMatchObject({ skipped: 1, captioned: captionedOrFailed.filter((item) => item.outcome === 'captioned').length });
    expect(captionedOrFailed.some((item) => item.relativePath === 'b.png')).toBe(false);
  });

  it('captions exactly the images given (re-captioning a selection)', async () => {
    const chosen = [images[1]!, images[4]!];
    const { items } = await pass({ input: null, images: chosen });
    expect(items.map((item) => item.path)).toEqual(chosen.map((image) => image.path));
    expect(items.every((item) => item.outcome === 'captioned' || item.outcome === 'failed')).toBe(true);
  });
});
