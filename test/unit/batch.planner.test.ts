/**
 * Planning a batch job's folder into shards (src/main/batch/planner.ts)
 * against a real SQLite store: shards of consecutive images in listing order
 * (a folder's files by name, then its subfolders), other files counted once,
 * and a planner that crashed half-way planning again to the same shards
 * without adding any twice or counting a file twice.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { planShards } from '../../src/main/batch/planner';
import { openSqliteStore, type SqliteExperimentStore } from '../../src/main/store/sqliteStore';
import type { BatchJobOptions } from '../../src/shared/batchTypes';
import { tempDataDir } from '../helpers/storeFixtures';

let data: ReturnType<typeof tempDataDir>;
let store: SqliteExperimentStore;
let folder: string;

beforeEach(() => {
  data = tempDataDir('batch-planner-');
  store = openSqliteStore({ dataDir: data.dir });
  folder = join(data.dir, 'photos');
  mkdirSync(join(folder, 'b-sub'), { recursive: true });
  // Files need not be real images: planning only lists names.
  for (const name of ['c.png', 'a.jpg', 'notes.txt', 'skip-me.png', 'd.webp', 'e.png']) writeFileSync(join(folder, name), 'x');
  for (const name of ['z.png', 'y.png', 'readme.md']) writeFileSync(join(folder, 'b-sub', name), 'x');
});

afterEach(async () => {
  await store.close();
  data.remove();
});

function options(shardSize: number): BatchJobOptions {
  return {
    input: { folder, recursive: true, include: [], exclude: ['skip-*'] },
    model: { package: 'unused' },
    decoding: {},
    outputs: { sidecar: null, csv: join(data.dir, 'out.csv'), jsonl: null, coco: null },
    batchSize: 4,
    shardSize,
  };
}

async function newJob(shardSize: number): Promise<number> {
  const job = await store.batchJobs.create({ inputPath: folder, modelPath: '/m', decoding: {}, total: 0 });
  await store.batchReview.setup(job.id, options(shardSize), 'm');
  return job.id;
}

async function shardPaths(jobId: number): Promise<string[][]> {
  const shards = await store.batchJobs.shards(jobId);
  return Promise.all(shards.map(async (shard) => (await store.batchJobs.shardImages(jobId, shard.shard)).images.map((path) => path.slice(folder.length + 1))));
}

const LISTING = [['a.jpg', 'c.png'], ['d.webp', 'e.png'], ['b-sub/y.png', 'b-sub/z.png']];

describe('planning a batch job into shards', () => {
  it('splits the listing into shards of consecutive images with their tasks, counts the rest once, and sets the total', async () => {
    const jobId = await newJob(2);
    expect(await planShards(store, jobId, options(2), new AbortController().signal)).toBe(true);
    expect(await shardPaths(jobId)).toEqual(LISTING);
    const shards = await store.batchJobs.shards(jobId);
    expect(shards.map((shard) => [shard.firstOrdinal, shard.size, shard.state])).toEqual([[0, 2, 'queued'], [2, 2, 'queued'], [4, 2, 'queued']]);
    expect(await store.batchJobs.plan(jobId)).toEqual({ listed: 9, ordinals: 6, planned: true, shards: 3 });
    expect(await store.batchReview.settings(jobId)).toMatchObject({ total: 6, ignored: 2, excluded: 1 });
    // Planned already: nothing more.
    expect(await planShards(store, jobId, options(2), new AbortController().signal)).toBe(true);
    expect((await store.batchJobs.shards(jobId)).length).toBe(3);
  });

  it('after a crash half-way, plans again to the same shards without adding any twice or counting a file twice', async () => {
    const jobId = await newJob(2);
    const addShard = store.batchJobs.addShard.bind(store.batchJobs);
    let calls = 0;
    store.batchJobs.addShard = async (...args) => {
      calls += 1;
      if (calls === 2) throw new Error('the process died here');
      return addShard(...args);
    };
    await expect(planShards(store, jobId, options(2), new AbortController().signal)).rejects.toThrow('the process died here');
    expect(await store.batchJobs.plan(jobId)).toEqual({ listed: 2, ordinals: 2, planned: false, shards: 1 });
    store.batchJobs.addShard = addShard;
    expect(await planShards(store, jobId, options(2), new AbortController().signal)).toBe(true);
    expect(await shardPaths(jobId)).toEqual(LISTING);
    expect(await store.batchReview.settings(jobId)).toMatchObject({ total: 6, ignored: 2, excluded: 1 });
  });

  it('stops when asked and continues later where it stopped', async () => {
    const jobId = await newJob(1);
    const controller = new AbortController();
    const addShard = store.batchJobs.addShard.bind(store.batchJobs);
    store.batchJobs.addShard = async (...args) => {
      const added = await addShard(...args);
      controller.abort();
      return added;
    };
    expect(await planShards(store, jobId, options(1), controller.signal)).toBe(false);
    expect((await store.batchJobs.plan(jobId)).shards).toBe(1);
    store.batchJobs.addShard = addShard;
    expect(await planShards(store, jobId, options(1), new AbortController().signal)).toBe(true);
    expect(await shardPaths(jobId)).toEqual(LISTING.flat().map((path) => [path]));
    expect(await store.batchReview.settings(jobId)).toMatchObject({ total: 6, ignored: 2, excluded: 1 });
  });
});
