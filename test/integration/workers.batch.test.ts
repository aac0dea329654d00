/**
 * A batch job across machines: `captioner batch --queue` on a PostgreSQL
 * store creates a job over 2,000 tiny PNGs split into shards of 100, three
 * `captioner worker` processes (each with its own engine) claim the job and
 * its shards, and the worker coordinating the job is killed with SIGKILL
 * while it captions a shard. The moment is chosen with the worker frozen
 * (SIGSTOP), so it cannot finish the shard between the look and the kill.
 * Its tasks are found crashed, queued again by the batch crash rule and
 * continued by the survivors; the job completes and every image is
 * captioned exactly once: one result per image, results stored before the
 * kill are not made again, the rest of the killed worker's shard is
 * captioned by a survivor, and the CSV, JSONL, COCO and caption files hold
 * each image once, in listing order. Then Ctrl-C of the
 * command following a queued job: with --cancel it stops the job and its
 * shards; without, it detaches and the job completes on the worker.
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseDelimited } from '../../src/main/lib/data/readers/delimited';
import { openPostgresStore, type PostgresExperimentStore } from '../../src/main/store/postgres/store';
import type { BatchJobResult } from '../../src/shared/batchTypes';
import { tempDir } from '../helpers/datasetFixtures';
import { startPostgres, type TestPostgres } from '../helpers/postgres';
import { jsonLines, runCli } from '../helpers/runCli';
import { killIfFrozen, startCli, startWorker, until as untilDone, type WorkerProcess } from '../helpers/workerProcesses';
import { trainTinyRun } from '../helpers/trainedRun';

/** The folder: 1,800 images at its top and 200 in a subfolder. */
const IMAGES_AT_TOP = 1_800;
const IMAGES_IN_SUBFOLDER = 200;
const IMAGES = IMAGES_AT_TOP + IMAGES_IN_SUBFOLDER;
/** Images per shard and per batch of the job across the workers (a worker stores one batch's results at a time). */
const SHARD_SIZE = 100;
const BATCH_SIZE = 25;

let server: TestPostgres;
let url: string;
let work: string;
let cleanup: () => void;
let dataDir: string;
let packageDir: string;
let folder: string;
/** Relative paths in the order the job lists them: the top folder's files by name, then the subfolder's. */
let listing: string[];
let store: PostgresExperimentStore;

beforeAll(async () => {
  server = await startPostgres();
  url = await server.createDatabase('workers_batch');
  ({ dir: work, cleanup } = tempDir('workers-batch-'));
  dataDir = join(work, 'shared');
  const run = await trainTinyRun({ images: 12, seed: 6 });
  packageDir = join(work, 'package');
  const exported = await runCli(['export', String(run.runId), '--out', packageDir, '--data-dir', run.dataDir]);
  expect(exported.code, exported.stderr).toBe(0);

  folder = join(work, 'images');
  mkdirSync(join(folder, 'more'), { recursive: true });
  const top = Array.from({ length: IMAGES_AT_TOP }, (_, index) => `img_${String(index).padStart(4, '0')}.png`);
  // "more" sorts between the top folder's names, but a folder's files come before its subfolders.
  const sub = Array.from({ length: IMAGES_IN_SUBFOLDER }, (_, index) => `more/a_${String(index).padStart(3, '0')}.png`);
  listing = [...top, ...sub];
  for (const [index, relative] of listing.entries()) {
    const size = 16 + (index % 17);
    await sharp({ create: { width: size, height: size, channels: 3, background: { r: (index * 37) % 256, g: (index * 91) % 256, b: (index * 13) % 256 } } })
      .png()
      .toFile(join(folder, relative));
  }
  store = await openPostgresStore({ url, dataDir, recoverOnOpen: false }).ready();
}, 300_000);

afterAll(async () => {
  await store?.close();
  await server?.dropDatabase('workers_batch');
  await server?.stop();
  cleanup?.();
});

/** Polls the store at this test's pace, with its patience. */
const until = <T>(what: string, probe: () => Promise<T | null | undefined | false>, timeoutMs = 240_000) => untilDone(what, probe, timeoutMs, 100);

/** What the coordinating worker held when it was killed. */
interface Death {
  victim: WorkerProcess;
  /** The job's task's attempts then: the crash rule queues it again, so a survivor's claim counts one more. */
  jobAttempts: number;
  /** The shard it was captioning, its images, and its task's attempts then. */
  shard: { taskId: number; images: string[]; attempts: number };
}

/**
 * Read while WORKER is frozen: a Death when it still coordinates the job and
 * is early in a shard of its own, else null (it goes on, to be looked at
 * again). Early: some of the shard's results are stored (a survivor must
 * leave them alone) and more are missing than one batch, the most that a
 * write sent just before the freeze can still add, so the shard is
 * unfinished when the worker dies.
 */
async function heldAtDeath(jobId: number, jobTaskId: number, worker: WorkerProcess): Promise<Death | null> {
  const jobTask = await store.tasks.get(jobTaskId);
  if (jobTask?.state !== 'running' || jobTask.owner?.worker !== worker.name) return null;
  for (const shard of await store.batchJobs.shards(jobId)) {
    if (shard.state !== 'running') continue;
    const shardTask = await store.tasks.get(shard.taskId!);
    if (shardTask?.state !== 'running' || shardTask.owner?.worker !== worker.name) continue;
    const { images } = await store.batchJobs.shardImages(jobId, shard.shard);
    const stored = (await store.batchReview.itemsAt(jobId, images)).length;
    // A worker captions one shard at a time: this is the one.
    if (stored === 0 || images.length - stored <= BATCH_SIZE) return null;
    return { victim: worker, jobAttempts: jobTask.attempts, shard: { taskId: shardTask.id, images, attempts: shardTask.attempts } };
  }
  return null;
}

describe('a batch job across three workers on one PostgreSQL store', () => {
  it('splits into shards the workers share; after SIGKILL of the coordinating worker every image is captioned exactly once, outputs in listing order', async () => {
    const workers = ['w1', 'w2', 'w3'].map((name) => startWorker(url, dataDir, name));
    const csv = join(work, 'out.csv');
    const jsonl = join(work, 'out.jsonl');
    const coco = join(work, 'out.coco.json');
    try {
      await until('three ready workers', async () => workers.every((worker) => worker.lines.some((line) => line.type === 'ready')));
      const following = runCli([
        'batch', folder, '--recursive', '--model', packageDir, '--greedy', '--batch-size', String(BATCH_SIZE), '--shard-size', String(SHARD_SIZE),
        '--sidecar', '--csv', csv, '--jsonl', jsonl, '--coco', coco,
        '--store', url, '--data-dir', dataDir, '--queue', '--json',
      ]);

      // The job's task, once a worker coordinates it and 300 images are stored, while it captions a shard itself.
      const job = await until('the job', async () => (await store.batchJobs.list())[0]);
      const death = await until('the coordinating worker frozen early in a shard of its own, then killed', async () => {
        const task = await store.tasks.get(job.taskId!);
        if (task && (task.state === 'completed' || task.state === 'failed')) throw new Error(`Batch job ${job.id} ended (${task.state}) before its coordinator was caught in a shard.`);
        if (task?.state !== 'running' || !task.owner) return null;
        if (((await store.batchJobs.get(job.id))?.done ?? 0) < 300) return null;
        const coordinator = workers.find((worker) => worker.name === task.owner!.worker);
        return coordinator ? killIfFrozen(coordinator, () => heldAtDeath(job.id, job.taskId!, coordinator)) : null;
      });
      const { victim } = death;
      expect(await victim.exited).toBeNull();
      // It held no other shard: any still running under its name (nobody may have noticed the death yet) is the one it was seen in.
      const runningUnderVictim: number[] = [];
      for (const shard of await store.batchJobs.shards(job.id)) {
        const shardTask = await store.tasks.get(shard.taskId!);
        if (shardTask?.state === 'running' && shardTask.owner?.worker === victim.name) runningUnderVictim.push(shardTask.id);
      }
      expect(runningUnderVictim.filter((taskId) => taskId !== death.shard.taskId)).toEqual([]);
      // What was stored before the kill must never be captioned again.
      const before = new Map((await store.batchJobs.results(job.id)).map((result) => [result.imagePath, result.createdAt]));
      expect(before.size).toBeGreaterThanOrEqual(300);
      // The kill left work in its shard: images without a result, which a survivor has to caption.
      const missingAtKill = death.shard.images.filter((path) => !before.has(path));
      expect(missingAtKill.length).toBeGreaterThan(0);

      const followed = await following;
      expect(followed.code, followed.stderr).toBe(0);
      const lines = jsonLines<Record<string, unknown>>(followed.stdout);
      expect(lines[0]).toMatchObject({ type: 'queued', jobId: job.id, taskId: job.taskId });
      const progress = lines.filter((line) => line.type === 'progress');
      expect(progress.length).toBeGreaterThan(1);
      expect(progress.map((line) => line.done as number)).toEqual([...progress.map((line) => line.done as number)].sort((a, b) => a - b));
      const final = lines.at(-1) as unknown as BatchJobResult & { type: string };
      expect(final).toMatchObject({ type: 'result', jobId: job.id, status: 'completed', counts: { total: 2000, captioned: 2000, failed: 0, skippedExisting: 0 } });

      // The job and the shard the victim was running crashed with it, were queued again and completed elsewhere.
      const jobAfter = await store.tasks.get(job.taskId!);
      expect(jobAfter).toMatchObject({ state: 'completed' });
      expect(jobAfter!.attempts).toBeGreaterThanOrEqual(2);
      expect(jobAfter!.attempts).toBeGreaterThan(death.jobAttempts);
      expect(jobAfter!.owner?.worker).not.toBe(victim.name);
      const shards = await store.batchJobs.shards(job.id);
      expect(shards.map((shard) => [shard.shard, shard.firstOrdinal, shard.size])).toEqual(Array.from({ length: IMAGES / SHARD_SIZE }, (_, index) => [index, index * SHARD_SIZE, SHARD_SIZE]));
      expect(shards.every((shard) => shard.state === 'completed')).toBe(true);
      const shardTasks = await Promise.all(shards.map((shard) => store.tasks.get(shard.taskId!)));
      // The shard the victim held when it died crashed with it and was run again, and finished, by another worker.
      const heldShard = (await store.tasks.get(death.shard.taskId))!;
      expect(heldShard.state).toBe('completed');
      expect(heldShard.attempts).toBeGreaterThanOrEqual(2);
      expect(heldShard.attempts).toBeGreaterThan(death.shard.attempts);
      expect(heldShard.owner?.worker).not.toBe(victim.name);
      // Every shard ended completed (the victim's own, finished before it died, among them).
      expect(shardTasks.every((task) => task!.state === 'completed')).toBe(true);
      // At least one survivor took shards: the work was shared.
      const survivorsWithShards = workers.filter((worker) => worker !== victim && worker.lines.some((line) => line.type === 'ended' && String(line.title).includes(': shard ')));
      expect(survivorsWithShards.length).toBeGreaterThanOrEqual(1);

      // One result per image; none stored before the kill was made again.
      const results = await store.batchJobs.results(job.id);
      expect(results.length).toBe(2000);
      expect(new Set(results.map((result) => result.imagePath)).size).toBe(2000);
      for (const result of results) {
        expect(result.caption).toBeTruthy();
        const stored = before.get(result.imagePath);
        if (stored !== undefined) expect(result.createdAt).toBe(stored);
      }
      // The images of the victim's shard that had no result when it died were captioned after it, by a survivor.
      const resultOf = new Map(results.map((result) => [result.imagePath, result]));
      expect(missingAtKill.filter((path) => !resultOf.get(path)?.caption)).toEqual([]);

      // The outputs: each image once, in listing order, and the same caption everywhere.
      const rows = parseDelimited(readFileSync(csv, 'utf8'), csv, ',').map((record) => record.fields);
      expect(rows[0]).toEqual(['path', 'caption', 'score', 'model', 'decoding']);
      const expectedPaths = listing.map((relative) => join(folder, relative));
      expect(rows.slice(1).map((row) => row[0])).toEqual(expectedPaths);
      const captionOf = new Map(rows.slice(1).map((row) => [row[0]!, row[1]!]));
      const records = jsonLines<{ path: string; caption: string }>(readFileSync(jsonl, 'utf8'));
      expect(records.map((record) => record.path)).toEqual(expectedPaths);
      expect(records.every((record) => record.caption === captionOf.get(record.path))).toBe(true);
      const cocoEntries = JSON.parse(readFileSync(coco, 'utf8')) as { image_id: string; caption: string }[];
      expect(cocoEntries.map((entry) => entry.image_id)).toEqual(listing);
      for (const relative of listing) {
        const sidecar = join(folder, relative.replace(/\.png$/, '.txt'));
        expect(existsSync(sidecar)).toBe(true);
        expect(readFileSync(sidecar, 'utf8').trim()).toBe(captionOf.get(join(folder, relative)));
      }
    } finally {
      for (const worker of workers) if (worker.child.exitCode === null && worker.child.signalCode === null) process.kill(-worker.child.pid!, 'SIGINT');
    }
    const codes = await Promise.all(workers.map((worker) => worker.exited));
    expect(codes.filter((code) => code !== null)).toEqual([0, 0]);
  }, 600_000);
});

describe('captioner batch --queue and Ctrl-C', () => {
  it('with --cancel stops the job and its shards on the workers; --resume --queue continues it; without --cancel Ctrl-C detaches and the job goes on', async () => {
    const worker = startWorker(url, dataDir, 'solo');
    const jsonl = join(work, 'cancel.jsonl');
    // 500 of the images: img_0000 … img_0499.
    const args = ['--include', 'img_0[0-4]*.png', '--model', packageDir, '--greedy', '--batch-size', '20', '--shard-size', '50', '--jsonl', jsonl, '--store', url, '--data-dir', dataDir, '--queue', '--json'];
    try {
      await until('a ready worker', async () => worker.lines.some((line) => line.type === 'ready'));
      const cancelling = startCli(['batch', folder, ...args, '--cancel']);
      await until('some progress', async () => cancelling.lines.some((line) => line.type === 'progress' && (line.done as number) >= 60));
      cancelling.child.kill('SIGINT');
      expect(await cancelling.exited).toBe(130);
      const stopped = cancelling.lines.find((line) => line.type === 'result')!;
      expect(stopped).toMatchObject({ type: 'result', status: 'stopped' });
      // As for a job run here: the reason and how to resume, after the result.
      expect(cancelling.lines.at(-1)).toMatchObject({ type: 'error', exitCode: 130, error: expect.stringContaining(`batch --resume ${stopped.jobId as number}`) });
      const jobId = stopped.jobId as number;
      expect((stopped.counts as { captioned: number }).captioned).toBeLessThan(500);
      const job = await store.batchJobs.get(jobId);
      expect(job?.status).toBe('stopped');
      // No shard is left to run: the queued ones were cancelled, the running one stopped after its batch.
      const shards = await store.batchJobs.shards(jobId);
      expect(shards.length).toBe(10);
      expect(shards.filter((shard) => shard.state !== 'completed' && shard.state !== 'cancelled')).toEqual([]);
      expect(existsSync(jsonl)).toBe(false);

      const resuming = startCli(['batch', '--resume', String(jobId), '--store', url, '--data-dir', dataDir, '--queue', '--json']);
      await until('progress after resuming', async () => resuming.lines.some((line) => line.type === 'progress'));
      resuming.child.kill('SIGINT');
      expect(await resuming.exited).toBe(0);
      expect(resuming.lines.at(-1)).toMatchObject({ type: 'detached', jobId });
      const done = await until('the detached job to complete on the worker', async () => {
        const current = await store.batchJobs.get(jobId);
        return current?.status === 'completed' ? current : null;
      });
      expect(done.done).toBe(500);
      const records = jsonLines<{ path: string }>(readFileSync(jsonl, 'utf8'));
      expect(records.map((record) => record.path)).toEqual(listing.slice(0, 500).map((relative) => join(folder, relative)));
    } finally {
      process.kill(-worker.child.pid!, 'SIGINT');
    }
    expect(await worker.exited).toBe(0);
  }, 400_000);
});
