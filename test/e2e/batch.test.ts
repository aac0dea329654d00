/**
 * Batch captioning in Chromium against serve mode, with a tiny trained run:
 * set up a job on a folder (every image type, corrupt and non-image files,
 * an existing caption file), preview its first captions, start it, watch it
 * complete, review the least confident caption, edit it in place, write the
 * outputs, and find the edited caption in its caption file and the CSV.
 * Screenshots go to test-output/e2e/.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeBatchFolder, type BatchFolder } from '../helpers/batchFolder';
import { imageBuffer, tempDir, write } from '../helpers/datasetFixtures';
import { trainTinyRun, type TrainedRun } from '../helpers/trainedRun';
import { pageUrl, screenshot, startSession, type Session } from './harness';

let session: Session;
let run: TrainedRun;
let folder: BatchFolder;
let work: string;
let cleanup: () => void;

beforeAll(async () => {
  run = await trainTinyRun({ images: 12, seed: 8 });
  ({ dir: work, cleanup } = tempDir('e2e-batch-'));
  folder = await writeBatchFolder(join(work, 'photos'));
  session = await startSession(run.dataDir);
}, 300_000);

const skippedCount = () => Object.keys(folder.existingSidecars).length;

afterAll(async () => {
  await session?.close();
  cleanup?.();
});

describe('batch captioning in the browser', () => {
  it('previews, runs a job, reviews and edits a caption, and writes caption files', async () => {
    const { page } = session;
    const csv = join(work, 'captions.csv');
    await page.goto(pageUrl(session, 'batch'));
    await page.getByTestId('batch-folder').fill(folder.root);
    await expect.poll(async () => page.getByTestId('batch-model').inputValue()).toBe(`run:${run.runId}`);
    await page.getByTestId('batch-decoding-strategy').selectOption('greedy');
    await page.getByTestId('batch-csv').fill(csv);

    // Enter in the folder field previews; it never starts a job (that writes files next to the images).
    await page.getByTestId('batch-folder').press('Enter');
    await page.getByTestId('preview-caption').first().waitFor({ timeout: 120_000 });
    await page.getByText('No batch jobs yet.').waitFor();
    expect(await page.getByTestId('preview-caption').count()).toBe(6);
    // Under the default policy (skip) the image with a caption file is passed over, as the job will, and shown marked.
    expect(await page.getByTestId('preview-skipped').count()).toBe(1);
    expect(await page.locator('[data-testid="batch-preview-item"][data-outcome="skipped"] .muted').textContent()).toBe('b.png');
    expect(await page.getByTestId('batch-preview-summary').textContent()).toContain('1 image passed over because a caption file exists');
    // No folder picker in a browser: the path is typed, as a path on the server.
    expect(await page.getByTestId('batch-choose-folder').count()).toBe(0);
    await expect
      .poll(async () => page.getByTestId('batch-preview-items').locator('img').first().evaluate((img) => (img as unknown as { naturalWidth: number }).naturalWidth), { timeout: 30_000 })
      .toBeGreaterThan(0);
    await screenshot(page, 'batch-preview');

    await page.getByTestId('batch-start').click();
    await page.getByTestId('batch-counts').waitFor({ timeout: 60_000 });
    await expect.poll(async () => page.getByTestId('run-status').first().textContent(), { timeout: 180_000 }).toBe('completed');
    const skipped = Object.keys(folder.existingSidecars).length;
    const captioned = folder.readable.length - skipped;
    await expect.poll(async () => page.getByTestId('batch-counts').textContent()).toContain(`${captioned} captioned`);
    await expect.poll(async () => page.getByTestId('batch-total').textContent()).toBe(`${folder.readable.length + folder.corrupt.length} images`);
    // Thumbnails are served from the job's folder.
    await expect
      .poll(async () => page.getByTestId('batch-item').first().locator('img').evaluate((img) => (img as unknown as { naturalWidth: number }).naturalWidth), { timeout: 30_000 })
      .toBeGreaterThan(0);
    await screenshot(page, 'batch-review');

    // The least confident caption comes first: edit it in place.
    const first = page.getByTestId('batch-item').first();
    const original = (await first.getByTestId('batch-caption').textContent())!.trim();
    const path = (await first.getByTestId('batch-confidence').textContent())!.split(' · ')[0]!;
    await first.getByTestId('batch-caption').click();
    await first.getByTestId('batch-edit-input').fill('a photo reviewed in the browser');
    await first.getByTestId('batch-edit-save').click();
    await expect.poll(async () => first.getByTestId('batch-caption').textContent()).toBe('a photo reviewed in the browser');
    await screenshot(page, 'batch-edited');
    // Escape leaves a caption as it was; Enter saves.
    const second = page.getByTestId('batch-item').nth(1);
    const secondCaption = (await second.getByTestId('batch-caption').textContent())!.trim();
    await second.getByTestId('batch-caption').click();
    await second.getByTestId('batch-edit-input').fill('not kept');
    await second.getByTestId('batch-edit-input').press('Escape');
    expect((await second.getByTestId('batch-caption').textContent())!.trim()).toBe(secondCaption);
    await second.getByTestId('batch-caption').click();
    await second.getByTestId('batch-edit-input').fill(secondCaption);
    await second.getByTestId('batch-edit-input').press('Enter');
    await second.getByTestId('batch-caption').waitFor();
    // Select every image shown (skipped ones are not captioned again), then clear.
    await page.getByTestId('batch-select-shown').click();
    expect(await page.getByTestId('batch-recaption').textContent()).toContain(`Re-caption ${folder.readable.length + folder.corrupt.length - skippedCount()} selected`);
    await page.getByTestId('batch-select-none').click();
    expect(await page.getByTestId('batch-recaption').textContent()).toContain('Re-caption 0 selected');

    const sidecar = join(folder.root, path.replace(/\.[^.]+$/, '.txt'));
    expect(readFileSync(sidecar, 'utf8')).toBe(original);
    await page.getByTestId('batch-write').click();
    await expect.poll(async () => page.getByTestId('batch-message').textContent()).toContain(`${captioned} caption files`);
    expect(readFileSync(sidecar, 'utf8')).toBe('a photo reviewed in the browser');
    expect(readFileSync(csv, 'utf8')).toContain('a photo reviewed in the browser');
    // The caption files that existed before the job are untouched.
    for (const [image, text] of Object.entries(folder.existingSidecars)) expect(readFileSync(join(folder.root, image.replace(/\.[^.]+$/, '.txt')), 'utf8')).toBe(text);
    expect(existsSync(join(folder.root, 'broken.txt'))).toBe(false);

    // Search by a word of a caption; then re-caption two selected images with beam search.
    await page.getByTestId('batch-search').fill('reviewed');
    await expect.poll(async () => page.getByTestId('batch-total').textContent()).toBe('1 image');
    await page.getByTestId('batch-search').fill('');
    await expect.poll(async () => page.getByTestId('batch-total').textContent()).toBe(`${folder.readable.length + folder.corrupt.length} images`);
    await page.getByTestId('batch-sort').selectOption('confidence-desc');
    const items = page.getByTestId('batch-item');
    await items.nth(0).locator('input[type="checkbox"]').check();
    await items.nth(1).locator('input[type="checkbox"]').check();
    await page.getByTestId('recaption-strategy').selectOption('beam');
    await page.getByTestId('batch-recaption').click();
    await expect.poll(async () => page.getByTestId('batch-message').textContent(), { timeout: 60_000 }).toBe('Captioned 2 images again.');

    // Failures, with their reasons.
    await page.getByTestId('batch-failures').check();
    await expect.poll(async () => page.getByTestId('batch-total').textContent()).toBe(`${folder.corrupt.length} images`);
    expect(await page.getByTestId('batch-item-error').first().textContent()).toMatch(/^(corrupt image data|truncated|not an image): /);
    await screenshot(page, 'batch-failures');

    // The jobs list shows it, completed, with its outputs.
    await page.goto(pageUrl(session, 'batch'));
    await page.getByTestId('batch-job-row').first().waitFor();
    expect(await page.getByTestId('batch-job-row').first().textContent()).toContain(csv);
    await screenshot(page, 'batch-jobs');

    // The Jobs drawer lists the job once, its shard summed up under it until opened.
    await page.getByTestId('jobs-button').click();
    const jobRow = page.getByTestId('job-row').filter({ hasText: folder.root });
    await expect.poll(async () => jobRow.count()).toBe(1);
    expect(await jobRow.getByTestId('job-children-summary').textContent()).toBe('shards: 1 done');
    expect(await jobRow.getByTestId('job-child').count()).toBe(0);
    await jobRow.getByTestId('job-children-toggle').click();
    expect(await jobRow.getByTestId('job-child').count()).toBe(1);
    expect(await jobRow.getByTestId('job-child').first().textContent()).toContain('Shard 1');
    await screenshot(page, 'jobs-drawer-shards');
    await page.keyboard.press('Escape');
    await page.getByTestId('jobs-drawer').waitFor({ state: 'detached' });

    // Delete it: the job goes, the files it wrote stay.
    page.once('dialog', (dialog) => void dialog.accept());
    await page.getByTestId('batch-delete').first().click();
    await expect.poll(async () => page.getByTestId('batch-job-row').count()).toBe(0);
    expect(readFileSync(sidecar, 'utf8')).toBe('a photo reviewed in the browser');
  });

  it('stops a running job from the page and resumes it to the end', async () => {
    const { page } = session;
    const many = join(work, 'many');
    const png = await imageBuffer('png', { width: 20, height: 16 });
    for (let i = 0; i < 400; i++) write(join(many, `img-${String(i).padStart(3, '0')}.png`), png);
    const jsonl = join(work, 'many.jsonl');
    await page.goto(pageUrl(session, 'batch'));
    await page.getByTestId('batch-folder').fill(many);
    await expect.poll(async () => page.getByTestId('batch-model').inputValue()).toBe(`run:${run.runId}`);
    await page.getByTestId('batch-sidecar').uncheck();
    await page.getByLabel('JSONL file').fill(jsonl);
    await page.getByTestId('batch-start').click();
    const progress = page.getByTestId('task-progress');
    await progress.waitFor({ timeout: 60_000 });
    await progress.getByRole('button', { name: /Stop|Cancel/ }).click();
    await expect.poll(async () => page.getByTestId('run-status').first().textContent(), { timeout: 120_000 }).toBe('stopped');
    const stoppedAt = Number((await page.getByTestId('batch-counts').textContent())!.split(' ')[0]);
    expect(stoppedAt).toBeLessThan(400);
    await screenshot(page, 'batch-stopped');

    await page.getByTestId('batch-resume').click();
    await expect.poll(async () => page.getByTestId('run-status').first().textContent(), { timeout: 240_000 }).toBe('completed');
    await expect.poll(async () => page.getByTestId('batch-counts').textContent()).toContain('400 captioned');
    expect(readFileSync(jsonl, 'utf8').trim().split('\n')).toHaveLength(400);
  });
});
