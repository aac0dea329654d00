/**
 * The core loop a new user follows, in Chromium against serve mode: generate
 * a small Shapes set, browse and search it, read its statistics, configure a
 * run from the form, watch the charts grow, stop it, resume it, export it.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pageUrl, screenshot, startSession, type Session } from './harness';

let session: Session;

beforeAll(async () => {
  session = await startSession();
});

afterAll(async () => {
  await session?.close();
});

async function chartPoints(title: string): Promise<number> {
  const value = await session.page.locator(`[data-testid="chart"][data-title="${title}"]`).getAttribute('data-points');
  return Number(value ?? 0);
}

describe('core loop in the browser', () => {
  it('offers, generates and browses the Shapes dataset', async () => {
    const { page } = session;
    await page.goto(pageUrl(session, 'datasets'));
    await page.getByTestId('first-start').waitFor();
    await page.getByTestId('synth-images').fill('60');
    await page.getByTestId('generate-shapes').click();
    await page.getByTestId('thumb').first().waitFor({ timeout: 120_000 });
    await expect.poll(async () => page.getByTestId('browse-total').textContent()).toBe('60 images');
    await screenshot(page, 'datasets');

    await page.getByTestId('caption-search').fill('circle');
    await expect
      .poll(async () => Number((await page.getByTestId('browse-total').textContent())?.split(' ')[0]), { timeout: 10_000 })
      .toBeLessThan(60);
    const first = page.getByTestId('thumb').first();
    expect((await first.getAttribute('title'))?.length).toBeGreaterThan(0);
    await first.click();
    const detail = page.getByTestId('image-detail');
    await detail.waitFor();
    expect(await detail.locator('li').count()).toBeGreaterThanOrEqual(5);
    expect(await detail.textContent()).toMatch(/circle|disc|ring/i);
    await screenshot(page, 'dataset-image');
    await detail.getByRole('button', { name: 'Close' }).click();

    await page.getByTestId('stats-tab').click();
    await page.getByTestId('vocab-size').waitFor();
    expect(Number((await page.getByTestId('vocab-size').textContent())?.replace(/,/g, ''))).toBeGreaterThan(10);
    await screenshot(page, 'dataset-stats');
  });

  it('starts a run from the form and shows its charts growing', async () => {
    const { page } = session;
    await page.getByRole('button', { name: 'Train on it' }).click();
    await page.getByTestId('start-run').waitFor({ timeout: 60_000 });
    const epochs = page.locator('[data-field="training.epochs"] input');
    await epochs.fill('40');
    await epochs.dispatchEvent('change');
    // A 6-second budget holds a few of the 40 epochs on any machine: the estimate says how many.
    const budget = page.locator('[data-field="training.maxMinutes"] input');
    const presetMinutes = await budget.inputValue();
    await budget.fill('0.1');
    await budget.dispatchEvent('change');
    await page.getByRole('button', { name: 'Estimate time' }).click();
    await page.getByTestId('estimate-budget').waitFor({ timeout: 120_000 });
    expect(await page.getByTestId('estimate-budget').textContent()).toMatch(/^The 0\.1-minute budget holds about \d+ of the 40 epochs/);
    await screenshot(page, 'new-run');
    await budget.fill(presetMinutes);
    await budget.dispatchEvent('change');
    await expect.poll(() => page.getByTestId('estimate-budget').count()).toBe(0);
    await page.getByTestId('start-run').click();

    await page.getByTestId('run-charts').waitFor({ timeout: 60_000 });
    expect(page.url()).toMatch(/#\/runs\/\d+$/);
    await expect.poll(() => chartPoints('Loss'), { timeout: 180_000 }).toBeGreaterThan(0);
    const before = await chartPoints('Loss');
    await expect.poll(() => chartPoints('Loss'), { timeout: 180_000 }).toBeGreaterThan(before);
    await page.getByTestId('live-progress').waitFor();
    await screenshot(page, 'run-live');

    // The Jobs drawer lists the run's training task, running, with its progress and a link to the run.
    await page.getByTestId('jobs-button').click();
    const job = page.locator('[data-testid="job-row"][data-state="running"]').first();
    await job.waitFor({ timeout: 30_000 });
    expect(await job.textContent()).toMatch(/Training/);
    await job.getByTestId('task-progress').waitFor();
    expect(await job.locator('a').getAttribute('href')).toMatch(/^#\/runs\/\d+$/);
    await screenshot(page, 'jobs-drawer');
    await page.keyboard.press('Escape');
    await page.getByTestId('jobs-drawer').waitFor({ state: 'detached' });
  });

  it('stops the run and resumes it from its checkpoint', async () => {
    const { page } = session;
    await page.getByTestId('stop-run').click();
    await expect.poll(async () => page.getByTestId('run-status').first().textContent(), { timeout: 180_000 }).toBe('stopped');
    // Checkpoints that share an epoch (best/ copies an epoch's folder, a stop writes step-N/) are told apart by folder and step.
    // The stops above wrote at least one; whether an epoch ended (and so a best/) depends on the machine's pace.
    await expect.poll(async () => page.getByTestId('checkpoint-list').locator('tr').count(), { timeout: 60_000 }).toBeGreaterThan(0);
    const checkpointRows = await page.getByTestId('checkpoint-list').locator('tr').allTextContents();
    for (const row of checkpointRows) expect(row).toMatch(/^epoch \d+( \(best\)best|(epoch|step)-\d+) · step \d+ · /);
    expect(new Set(checkpointRows.map((row) => row.replace(/ · [^·]*$/, ''))).size, 'no two rows read the same').toBe(checkpointRows.length);
    const stoppedAt = await chartPoints('Loss');
    await page.getByTestId('resume-run').click();
    await expect.poll(async () => page.getByTestId('run-status').first().textContent(), { timeout: 60_000 }).toBe('running');
    await expect.poll(() => chartPoints('Loss'), { timeout: 180_000 }).toBeGreaterThan(stoppedAt);
    await screenshot(page, 'run-resumed');
    await page.getByTestId('stop-run').click();
    await expect.poll(async () => page.getByTestId('run-status').first().textContent(), { timeout: 180_000 }).toBe('stopped');

    // The preset recommends its decoding: the run's evaluation form starts with those boxes ticked, and says why.
    await page.getByTestId('eval-recommended').waitFor({ timeout: 60_000 });
    expect(await page.getByTestId('eval-recommended').textContent()).toContain('mirror and converse consensus, relation search');
    for (const box of ['eval-mirror', 'eval-converse', 'eval-relations']) expect(await page.getByTestId(box).isChecked(), box).toBe(true);
    await page.getByTestId('eval-converse').uncheck();
    expect(await page.getByTestId('eval-mirror').isChecked()).toBe(true);
    await page.getByTestId('run-evaluations').scrollIntoViewIfNeeded();
    await screenshot(page, 'run-evaluation-recommended');
    const runPage = page.url();
    // So does the batch form, once the run is its model.
    await page.goto(pageUrl(session, 'batch'));
    await expect.poll(async () => page.getByTestId('batch-model').inputValue(), { timeout: 30_000 }).toMatch(/^run:\d+$/);
    await expect.poll(async () => page.getByTestId('batch-decoding-relations').isChecked()).toBe(true);
    expect(await page.getByTestId('batch-decoding-mirror').isChecked()).toBe(true);
    expect(await page.getByTestId('batch-recommended').textContent()).toMatch(/^The boxes start as run \d+ recommends: mirror and converse consensus, relation search\.$/);
    await screenshot(page, 'batch-recommended');
    await page.goto(runPage);
    await page.getByTestId('run-evaluations').waitFor({ timeout: 30_000 });

    const packageDir = join(session.dataDir, 'exported-package');
    page.once('dialog', (dialog) => void dialog.accept(packageDir));
    await page.getByRole('button', { name: 'Export model' }).click();
    await page.getByText('Model package written to').waitFor({ timeout: 120_000 });
    expect(existsSync(join(packageDir, 'vocab.json'))).toBe(true);
    expect(existsSync(join(packageDir, 'caption.mjs'))).toBe(true);

    await page.goto(pageUrl(session, 'runs'));
    await page.getByTestId('run-row').first().waitFor();
    expect(await page.getByTestId('run-row').count()).toBe(1);
    await screenshot(page, 'runs');
  });

  it('compares runs on shared axes', async () => {
    const { page } = session;
    const runId = (await page.getByTestId('run-row').first().locator('a').getAttribute('href'))?.split('/').pop();
    await page.goto(pageUrl(session, `compare/${runId}`));
    await page.getByTestId('compare-charts').waitFor({ timeout: 30_000 });
    await expect.poll(async () => page.locator('[data-testid="compare-charts"] [data-testid="chart"]').count()).toBeGreaterThanOrEqual(3);
    await screenshot(page, 'compare');
  });
});
