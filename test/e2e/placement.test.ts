/**
 * Queueing work for the workers from the UI, in serve mode on the embedded
 * SQLite store, where a worker process (seeded as the owner of a finished
 * task) has been seen: the New run form offers "Run on", a run queued for
 * the workers stays queued (this workbench never takes it) and the Jobs
 * drawer says it waits for a worker; the System page shows the store in use
 * and the worker. "Run here instead" gives the queued run back to this
 * workbench, which takes it at once.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openSqliteStore } from '../../src/main/store/sqliteStore';
import { pageUrl, screenshot, startSession, type Session } from './harness';

let session: Session;
const worker = { host: 'gpu-box-7', pid: 4242, worker: 'box-gpu0' };

/** A task a worker on another machine ran a minute ago, as `captioner worker` leaves it in the store. */
async function seedWorker(dataDir: string): Promise<void> {
  const store = openSqliteStore({ dataDir });
  try {
    const task = await store.tasks.create({ kind: 'import', title: 'Importing /mnt/captioner/photos', params: {} });
    await store.tasks.claimById(task.id, worker);
    await store.tasks.finish(task.id, worker, { state: 'completed', result: {} });
  } finally {
    await store.close();
  }
}

beforeAll(async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'e2e-placement-'));
  await seedWorker(dataDir);
  session = await startSession(dataDir);
});

afterAll(async () => {
  await session?.close();
});

describe('queueing work for the workers', () => {
  it('queues a run for the workers from the New run form, and the Jobs drawer says it waits for one', async () => {
    const { page } = session;
    await page.goto(pageUrl(session, 'runs/new'));
    const runOn = page.getByTestId('run-on');
    await runOn.waitFor({ timeout: 60_000 });
    expect(await page.getByTestId('run-on-here').isChecked()).toBe(true);
    await page.getByTestId('run-on-workers').check();
    expect(await page.getByTestId('workers-seen').textContent()).toContain('box-gpu0 on gpu-box-7');
    expect(await page.getByTestId('no-workers-warning').count()).toBe(0);
    // No dataset yet: the empty field is not called wrong until a start is tried.
    expect(await page.getByTestId('dataset-error').count()).toBe(0);
    await page.getByTestId('start-run').click();
    expect(await page.getByTestId('dataset-error').textContent()).toContain('Choose a dataset');
    await page.getByPlaceholder('/path/to/dataset').fill(session.dataDir);
    await page.getByPlaceholder('/path/to/dataset').dispatchEvent('change');
    expect(await page.getByTestId('dataset-error').count()).toBe(0);
    expect(await page.getByTestId('start-run').textContent()).toContain('Queue for the workers');
    await screenshot(page, 'new-run-for-workers');
    await page.getByTestId('start-run').click();
    await page.waitForURL(/#\/runs\/\d+$/, { timeout: 30_000 });
    const runId = Number(new URL(page.url()).hash.split('/').pop());

    await page.getByTestId('jobs-button').click();
    const row = page.getByTestId('job-row').filter({ hasText: `Training run ${runId}` });
    await row.waitFor({ timeout: 30_000 });
    expect(await row.getByTestId('job-placement').textContent()).toContain('queued for the workers only');
    expect(await row.getByTestId('task-progress').textContent()).toContain('waiting for a worker');
    await screenshot(page, 'jobs-waiting-for-worker');

    // Serve mode's own runtime never claims it, however long it waits.
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(await row.getAttribute('data-state')).toBe('queued');
    const store = openSqliteStore({ dataDir: session.dataDir });
    try {
      const run = await store.runs.get(runId);
      expect(await store.tasks.get(run!.taskId!)).toMatchObject({ state: 'queued', placement: 'workers', owner: null });
    } finally {
      await store.close();
    }

    // Taken back: this workbench claims it at once (and the run fails here: its dataset folder holds no captions).
    await row.getByTestId('job-to-here').click();
    await expect.poll(async () => row.getAttribute('data-state'), { timeout: 60_000 }).not.toBe('queued');
    await page.keyboard.press('Escape');
    await page.getByTestId('jobs-drawer').waitFor({ state: 'detached' });
  });

  it('offers Run on in the new study form too', async () => {
    const { page } = session;
    await page.goto(pageUrl(session, 'tuning/new'));
    await page.getByTestId('run-on').waitFor({ timeout: 60_000 });
    expect(await page.getByTestId('create-study').textContent()).toContain('Start study');
    await page.getByTestId('run-on-workers').check();
    expect(await page.getByTestId('create-study').textContent()).toContain('Queue for the workers');
  });

  it('shows the store in use and the worker seen on it on the System page', async () => {
    const { page } = session;
    await page.goto(pageUrl(session, 'system'));
    const inUse = page.getByTestId('store-in-use');
    await inUse.waitFor({ timeout: 60_000 });
    expect(await inUse.textContent()).toBe('SQLite (in the data directory)');
    expect(await page.getByTestId('store-panel').textContent()).toContain('--store URL');
    // Serve mode has no settings file to edit.
    expect(await page.getByTestId('store-url').count()).toBe(0);
    const workerRow = page.getByTestId('worker-row').filter({ hasText: 'gpu-box-7' });
    await workerRow.waitFor({ timeout: 10_000 });
    expect(await workerRow.textContent()).toContain('box-gpu0');
    await screenshot(page, 'system-store');
  });
});
