/**
 * `npm run bench -- batch [--images N] [--stage-images N] [--batch-size N] [--beam N] [--backend NAME]`
 *
 * Batch captioning speed and memory, on the same images and backend:
 *
 * - each stage alone, in images per second: decode+resize (sharp, parallel),
 *   the encoder's forward pass (on prepared batches), and decoding from
 *   features (batched beams);
 * - the whole engine pass (lazy folder listing, pipeline, per-batch reports)
 *   and its ratio to the slowest stage alone (the goal is at least 0.9);
 * - for each, the CPU it used (process CPU time over wall time, every thread
 *   counted) and CPU milliseconds per image, and what bounds the whole job:
 *   the cores against the stages' CPU per image added up, and the encoder
 *   and decoder taking turns on the JavaScript thread;
 * - peak RSS after 1,000 and after N images (default 10,000) of the whole
 *   pass, to show memory stays flat.
 *
 * The model is untrained (scratch CNN 64 px, merge LSTM 256 units, 2,000
 * words), so captions run to the length limit: a worst case for decoding.
 */
import * as tf from '@tensorflow/tfjs';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os, { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { listFolder } from '../src/main/lib/batch/listFolder';
import { initBackend } from '../src/main/ml/backend';
import { captionJob } from '../src/main/ml/batch/captionJob';
import { decodeFeatures, disposeFeatures, encodeBatch, prepareBatch, type PipelineImage, type PreparedBatch } from '../src/main/ml/batch/pipeline';
import { completeDecoding, toDecodeOptions } from '../src/main/ml/captioning/decoding';
import type { BackendName } from '../src/shared/types';
import { randomInferenceModel } from '../test/helpers/batchModel';

function option(args: string[], name: string): string | undefined {
  const index = args.indexOf(`--${name}`);
  return index >= 0 ? args[index + 1] : undefined;
}

function print(value: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify({ bench: 'batch', ...value })}\n`);
}

const mb = (bytes: number) => Number((bytes / 1024 / 1024).toFixed(1));
const round = (value: number, digits = 1) => Number(value.toFixed(digits));

/** Wall time and this process's CPU time (every thread: sharp's, libuv's, TensorFlow's) of one stage. */
interface Timing {
  seconds: number;
  cpuSeconds: number;
}

async function timed(body: () => Promise<void> | void): Promise<Timing> {
  const cpu = process.cpuUsage();
  const started = performance.now();
  await body();
  const used = process.cpuUsage(cpu);
  return { seconds: (performance.now() - started) / 1000, cpuSeconds: (used.user + used.system) / 1e6 };
}

/** A stage's rate and what it costs the CPU: cores busy on average, CPU milliseconds per image. */
function rates(images: number, timing: Timing) {
  return {
    imagesPerSecond: round(images / timing.seconds),
    cpuCores: round(timing.cpuSeconds / timing.seconds, 2),
    cpuMsPerImage: round((timing.cpuSeconds * 1000) / images, 2),
  };
}

const loadAverage = () => round(os.loadavg()[0]!, 2);

/** A folder of N distinct JPEG photos-sized images (640×480), written once; subfolders of 1,000. */
async function writeImages(dir: string, count: number): Promise<void> {
  const variants: Buffer[] = [];
  for (let i = 0; i < 16; i++) {
    const noise = Buffer.alloc(160 * 120 * 3);
    for (let j = 0; j < noise.length; j++) noise[j] = (j * (i + 7) + ((j / 3) | 0) * 13) & 255;
    variants.push(await sharp(noise, { raw: { width: 160, height: 120, channels: 3 } }).resize(640, 480).jpeg({ quality: 85 }).toBuffer());
  }
  for (let i = 0; i < count; i++) {
    const folder = join(dir, `part-${String(Math.floor(i / 1000)).padStart(3, '0')}`);
    if (i % 1000 === 0) mkdirSync(folder, { recursive: true });
    writeFileSync(join(folder, `img-${String(i).padStart(6, '0')}.jpg`), variants[i % variants.length]!);
  }
}

export async function run(args: string[]): Promise<void> {
  const forced = option(args, 'backend') as BackendName | undefined;
  const backend = await initBackend(forced ? { ...process.env, CAPTIONER_BACKEND: forced } : process.env);
  const total = Number(option(args, 'images') ?? 10_000);
  const stageImages = Number(option(args, 'stage-images') ?? 512);
  const batchSize = Number(option(args, 'batch-size') ?? 32);
  const beam = Number(option(args, 'beam') ?? 3);
  const model = randomInferenceModel({ inputSize: 64, channels: 16, units: 256, embeddingDim: 128, words: 2000, maxCaptionLength: 12 });
  const decoding = completeDecoding({ strategy: 'beam', beamWidth: beam }, model.maxCaptionLength);
  const decodeOptions = toDecodeOptions(decoding);
  const root = mkdtempSync(join(tmpdir(), 'bench-batch-'));
  try {
    await writeImages(root, Math.max(total, stageImages));
    const images: PipelineImage[] = [];
    for await (const entry of listFolder({ folder: root, recursive: true, include: [], exclude: [] })) {
      if (entry.kind === 'image') images.push({ path: entry.path, relativePath: entry.relativePath });
      if (images.length >= stageImages) break;
    }
    const batches: PipelineImage[][] = [];
    for (let i = 0; i < images.length; i += batchSize) batches.push(images.slice(i, i + batchSize));
    const common = { backend: backend.name, batchSize, beam, stageImages };

    const cores = os.availableParallelism();
    print({ ...common, stage: 'machine', cores, loadAverage: loadAverage() });

    // Stage 1: decode and resize alone (warm-up batch first).
    await prepareBatch(model, batches[0]!);
    const prepared: PreparedBatch[] = [];
    const decodeTime = await timed(async () => {
      for (const batch of batches) prepared.push(await prepareBatch(model, batch));
    });
    const decodeStage = rates(images.length, decodeTime);
    print({ ...common, stage: 'decode+resize', ...decodeStage });

    // Overlap: how much of a batch sharp decodes while the JavaScript thread is held, as the model holds it.
    // A batch decoded without a hold, then one started just before the thread is held for 500 ms: what is
    // left to wait for once the thread is free is what sharp could not do meanwhile.
    const probeBatch = batches[1] ?? batches[0]!;
    const freeTime = await timed(async () => void (await prepareBatch(model, probeBatch)));
    const probe = prepareBatch(model, probeBatch);
    const holdUntil = performance.now() + 500;
    while (performance.now() < holdUntil) {
      // Busy, as a forward pass is: no callbacks run.
    }
    const released = performance.now();
    await probe;
    const waited = (performance.now() - released) / 1000;
    print({
      ...common,
      stage: 'overlap probe',
      batchDecodeMs: round(freeTime.seconds * 1000),
      heldMs: 500,
      waitedAfterHoldMs: round(waited * 1000),
      decodedDuringHold: round(Math.max(0, 1 - waited / freeTime.seconds), 2),
      loadAverage: loadAverage(),
    });

    // Stage 2: the encoder's forward pass alone, on prepared batches.
    disposeFeatures(encodeBatch(model, prepared[0]!.input, prepared[0]!.ok.length));
    const features: ReturnType<typeof encodeBatch>[] = [];
    const encodeTime = await timed(() => {
      for (const batch of prepared) {
        const encoded = encodeBatch(model, batch.input, batch.ok.length);
        // Read back so the time includes the computation, not just its scheduling.
        (encoded.pooled ?? encoded.grid)!.dataSync();
        features.push(encoded);
      }
    });
    const encodeStage = rates(images.length, encodeTime);
    print({ ...common, stage: 'encoder', ...encodeStage });

    // Stage 3: decoding from features alone.
    decodeFeatures(model, features[0]!, decodeOptions);
    const decodingTime = await timed(() => {
      for (const encoded of features) decodeFeatures(model, encoded, decodeOptions);
    });
    const decodingStage = rates(images.length, decodingTime);
    print({ ...common, stage: 'decoding', ...decodingStage });
    features.forEach(disposeFeatures);

    // The whole engine pass over the same images, then over the whole folder for memory.
    const never = new AbortController().signal;
    const pass = async (limit: number, onReport?: (done: number) => void) => {
      let done = 0;
      const timing = await timed(async () => {
        await captionJob(model, decoding, { batchSize, input: { folder: root, recursive: true, include: [], exclude: [] }, images: null, done: [], skipExistingExt: null, limit }, {
          signal: never,
          report: (report) => {
            done += report.items.length;
            onReport?.(done);
          },
        });
      });
      return { done, timing };
    };
    const whole = await pass(images.length);
    const wholeStage = rates(whole.done, whole.timing);
    const stages = [decodeStage, encodeStage, decodingStage];
    const slowest = Math.min(...stages.map((stage) => stage.imagesPerSecond));
    // What a loop without overlap would reach: the stages' times per image added up.
    const sequential = 1 / stages.reduce((sum, stage) => sum + 1 / stage.imagesPerSecond, 0);
    // What the CPUs allow at best when every stage runs at once: all cores busy, each image costing the stages' CPU time.
    const cpuMsPerImage = stages.reduce((sum, stage) => sum + stage.cpuMsPerImage, 0);
    const cpuBound = (cores * 1000) / cpuMsPerImage;
    // TensorFlow's eager ops run on the calling thread, so the encoder and the decoder take turns on the
    // JavaScript thread however the images are decoded: their times alone, added up, bound the whole job too.
    const modelThreadBound = 1 / (1 / encodeStage.imagesPerSecond + 1 / decodingStage.imagesPerSecond);
    const ceiling = Math.min(cpuBound, modelThreadBound);
    print({
      ...common,
      stage: 'whole job',
      ...wholeStage,
      slowestStageAlone: slowest,
      ratioToSlowestStage: round(wholeStage.imagesPerSecond / slowest, 3),
      loopWithoutOverlap: round(sequential),
      stagesCpuMsPerImage: round(cpuMsPerImage, 2),
      cpuBoundImagesPerSecond: round(cpuBound),
      modelThreadBoundImagesPerSecond: round(modelThreadBound),
      ceilingRatioToSlowestStage: round(ceiling / slowest, 3),
      loadAverage: loadAverage(),
    });

    let peakAt1000 = 0;
    let peak = 0;
    const tensorsBefore = tf.memory().numTensors;
    const memory = await pass(total, (done) => {
      peak = Math.max(peak, process.memoryUsage().rss);
      if (done <= 1000) peakAt1000 = peak;
    });
    print({
      stage: 'memory',
      backend: backend.name,
      images: memory.done,
      ...rates(memory.done, memory.timing),
      peakRssMbAt1000: mb(peakAt1000),
      [`peakRssMbAt${memory.done}`]: mb(peak),
      tensorsLeft: tf.memory().numTensors - tensorsBefore,
      loadAverage: loadAverage(),
    });
  } finally {
    model.dispose();
    rmSync(root, { recursive: true, force: true });
  }
}
