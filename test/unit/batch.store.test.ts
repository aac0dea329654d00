/**
 * The batch review store (migration 0006): upgrading a database that holds
 * batch jobs, per-image outcomes with confidence, sorting and filtering for
 * review, reviewed captions, caption-file state, counts, and paging.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { databasePath, openDatabase } from '../../src/main/store/db';
import { migrate } from '../../src/main/store/migrate';
import { migrations } from '../../src/main/store/migrations';
import { migration0006 } from '../../src/main/store/migrations/0006-batch-review';
import { openSqliteStore, type SqliteExperimentStore } from '../../src/main/store/sqliteStore';
import type { BatchItemInput } from '../../src/main/store/batchReview';
import type { BatchJobOptions } from '../../src/shared/batchTypes';
import { tempDataDir } from '../helpers/storeFixtures';

let data: ReturnType<typeof tempDataDir>;
let store: SqliteExperimentStore | null = null;
beforeEach(() => {
  data = tempDataDir('batch-store-');
});
afterEach(async () => {
  await store?.close();
  store = null;
  data.remove();
});

const OPTIONS: BatchJobOptions = {
  input: { folder: '/photos', recursive: true, include: [], exclude: [] },
  model: { package: 'tiny' },
  decoding: { strategy: 'greedy' },
  outputs: { sidecar: { ext: '.txt', prefix: '', suffix: '', existing: 'skip' }, csv: null, jsonl: '/out/captions.jsonl', coco: null },
  batchSize: 8,
};

const item = (name: string, confidence: number | null, extra: Partial<BatchItemInput> = {}): BatchItemInput => ({
  path: `/photos/${name}`,
  relativePath: name,
  outcome: confidence === null ? 'failed' : 'captioned',
  caption: confidence === null ? null : `caption of ${name}`,
  logProb: confidence === null ? null : confidence * 3,
  confidence,
  error: confidence === null ? 'corrupt: bad header' : null,
  ...extra,
});

async function newJob(s: SqliteExperimentStore): Promise<number> {
  const job = await s.batchJobs.create({ inputPath: '/photos', modelPath: '/models/tiny', decoding: {}, total: 0 });
  await s.batchReview.setup(job.id, OPTIONS, 'tiny');
  return job.id;
}

describe('migration 0006', () => {
  it('upgrades a database holding a batch job and a result: both kept, new columns at their defaults', () => {
    const db = openDatabase(databasePath(data.dir));
    const before = migrations.indexOf(migration0006);
    migrate(db, migrations.slice(0, before));
    const jobId = Number(
      db.prepare(`INSERT INTO batch_jobs (input_path, model_path, decoding, status, total, created_at) VALUES ('/in', '/m', '{}', 'completed', 1, 1)`).run().lastInsertRowid,
    );
    db.prepare(`INSERT INTO batch_results (job_id, image_path, caption, score, created_at) VALUES (?, '/in/a.jpg', 'a dog', -1.5, 1)`).run(jobId);
    migrate(db, migrations.slice(0, before + 1));
    const row = db.prepare('SELECT * FROM batch_results WHERE job_id = ?').get(jobId) as Record<string, unknown>;
    expect(row).toMatchObject({ caption: 'a dog', score: -1.5, outcome: 'captioned', confidence: null, edited_caption: null, sidecar: 'none', sidecar_caption: null });
    expect(() => db.prepare(`UPDATE batch_results SET outcome = 'maybe'`).run()).toThrow(/CHECK/);
    expect(() => db.prepare(`INSERT INTO batch_job_settings (job_id, options, model_label) VALUES (?, '{oops', 'm')`).run(jobId)).toThrow(/CHECK/);
    db.close();
  });
});

describe('batch review store', () => {
  it('records outcomes, sorts by confidence (unscored last), filters by text and failures, and pages', async () => {
    store = openSqliteStore({ dataDir: data.dir });
    const jobId = await newJob(store);
    await store.batchReview.record(jobId, [item('b.jpg', -0.2), item('a.jpg', -1.4), item('bad.jpg', null)], { ignored: 2, excluded: 1, sidecarPending: true });
    await store.batchReview.record(jobId, [item('c.png', -0.9), item('d.png', null, { outcome: 'skipped', error: 'caption file exists' })], { ignored: 1, excluded: 0, sidecarPending: true });
    const paths = async (query: Parameters<SqliteExperimentStore['batchReview']['items']>[1]) => (await store!.batchReview.items(jobId, query)).items.map((entry) => entry.relativePath);
    expect(await paths({ sort: 'confidence-asc' })).toEqual(['a.jpg', 'c.png', 'b.jpg', 'bad.jpg', 'd.png']);
    expect(await paths({ sort: 'confidence-desc' })).toEqual(['b.jpg', 'c.png', 'a.jpg', 'bad.jpg', 'd.png']);
    expect(await paths({ failuresOnly: true })).toEqual(['bad.jpg']);
    expect(await paths({ search: 'OF C.' })).toEqual(['c.png']);
    expect(await paths({ search: 'png' })).toEqual(['c.png', 'd.png']);
    expect(await store.batchReview.items(jobId, { sort: 'path', limit: 2, offset: 1 })).toMatchObject({ total: 5, items: [{ relativePath: 'b.jpg' }, { relativePath: 'bad.jpg' }] });
    expect(await store.batchReview.counts(jobId)).toEqual({ captioned: 3, skippedExisting: 1, failed: 1, ignored: 3, excluded: 1, sidecars: 0 });
    expect(await store.batchReview.donePaths(jobId)).toHaveLength(5);
    const pages: string[][] = [];
    for await (const page of store.batchReview.pages(jobId, 2)) pages.push(page.map((entry) => entry.relativePath));
    expect(pages).toEqual([['a.jpg', 'b.jpg'], ['bad.jpg', 'c.png'], ['d.png']]);
  });

  it('keeps caption files pending until written, marks a reviewed caption for rewriting, and clears reviews on re-captioning', async () => {
    store = openSqliteStore({ dataDir: data.dir });
    const jobId = await newJob(store);
    await store.batchReview.record(jobId, [item('a.jpg', -1), item('bad.jpg', null)], { ignored: 0, excluded: 0, sidecarPending: true });
    expect((await store.batchReview.pendingSidecars(jobId)).map((entry) => entry.item.relativePath)).toEqual(['a.jpg']);
    await store.batchReview.markSidecarsWritten(jobId, [{ path: '/photos/a.jpg', caption: 'caption of a.jpg' }]);
    expect(await store.batchReview.pendingSidecars(jobId)).toEqual([]);
    expect((await store.batchReview.counts(jobId)).sidecars).toBe(1);

    const edited = await store.batchReview.edit(jobId, '/photos/a.jpg', 'a reviewed caption');
    expect(edited).toMatchObject({ caption: 'caption of a.jpg', editedCaption: 'a reviewed caption' });
    expect(await store.batchReview.pendingSidecars(jobId)).toEqual([{ item: edited, writtenCaption: 'caption of a.jpg' }]);
    expect((await store.batchReview.items(jobId, { search: 'reviewed' })).total).toBe(1);
    await expect(store.batchReview.edit(jobId, '/photos/bad.jpg', 'x')).rejects.toThrow(/Captioned image in batch job \d+ \/photos\/bad.jpg/);

    // Captioning again replaces the caption, drops the review, and keeps the file's known content for the rewrite.
    await store.batchReview.record(jobId, [item('a.jpg', -0.3, { caption: 'a new caption' })], { ignored: 0, excluded: 0, sidecarPending: true });
    const [again] = await store.batchReview.itemsAt(jobId, ['/photos/a.jpg']);
    expect(again).toMatchObject({ caption: 'a new caption', editedCaption: null, confidence: -0.3 });
    expect((await store.batchReview.pendingSidecars(jobId))[0]!.writtenCaption).toBe('caption of a.jpg');
  });

  it('settings hold the options, decoding, total and outputs; a missing job is named', async () => {
    store = openSqliteStore({ dataDir: data.dir });
    const jobId = await newJob(store);
    await store.batchReview.setTotal(jobId, 42);
    await store.batchReview.setOutputs(jobId, { sidecars: 3, csv: null, jsonl: '/out/captions.jsonl', coco: null });
    expect(await store.batchReview.settings(jobId)).toMatchObject({ options: OPTIONS, modelLabel: 'tiny', decoding: null, total: 42, outputs: { sidecars: 3, jsonl: '/out/captions.jsonl' } });
    await expect(store.batchReview.settings(999)).rejects.toThrow(/Batch job 999/);
    // Deleting the job removes its settings and results with it.
    await store.batchJobs.delete(jobId);
    await expect(store.batchReview.settings(jobId)).rejects.toThrow(/not found|Batch job/);
  });
});
