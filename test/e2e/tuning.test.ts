/**
 * A real small study from the Tuning page, in Chromium against serve mode:
 * generate a tiny Shapes set, create a study from the form (learning rate
 * only, 3 epochs, random sampler with a seed, median pruner after two
 * start-up trials), enqueue a trial with a fixed learning rate, watch trials
 * train and the charts fill in, and read what pruning saved. Screenshots go to test-output/e2e/.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pageUrl, screenshot, startSession, type Session } from './harness';

let session: Session;

beforeAll(async () => {
  session = await startSession();
});

afterAll(async () => {
  await session?.close();
});

const drawn = async (testid: string): Promise<number> => Number((await session.page.locator(`[data-testid="${testid}"] canvas`).first().getAttribute('data-drawn')) ?? 0);

describe('the Tuning page', () => {
  it('runs a small study on Shapes and fills its charts while trials run', async () => {
    const { page } = session;
    await page.goto(pageUrl(session, 'datasets'));
    await page.getByTestId('first-start').waitFor();
    await page.getByTestId('synth-images').fill('60');
    await page.getByTestId('generate-shapes').click();
    await page.getByTestId('thumb').first().waitFor({ timeout: 120_000 });

    await page.goto(pageUrl(session, 'tuning'));
    await page.getByTestId('new-study').first().click();
    await page.getByTestId('create-study').waitFor({ timeout: 60_000 });
    // The default name carries its date and time; the field shows it whole.
    const nameBox = page.getByTestId('study-name');
    expect(await nameBox.evaluate((input) => input.scrollWidth <= input.clientWidth)).toBe(true);
    expect(await nameBox.inputValue()).toMatch(/^study \d{4}-\d\d-\d\d \d\d:\d\d$/);
    await nameBox.fill('shapes lr');
    await page.getByTestId('space-none').click();
    await page.getByLabel('search optimizer.learningRate').check();
    await page.getByLabel('optimizer.learningRate low').fill('0.00001');
    await page.getByLabel('optimizer.learningRate high').fill('0.03');
    // A tiny bound reads back in exponent form once committed, not cut to "0.0000".
    await expect.poll(() => page.getByLabel('optimizer.learningRate low').inputValue()).toBe('1e-5');
    await page.getByTestId('space-editor').scrollIntoViewIfNeeded();
    await screenshot(page, 'tuning-space-editor');
    await page.getByTestId('study-sampler').selectOption('random');
    await page.getByTestId('pruner-startup').fill('2');
    await page.getByTestId('study-trials').fill('5');
    const epochs = page.locator('[data-field="training.epochs"] input');
    await epochs.fill('3');
    await epochs.dispatchEvent('change');
    await screenshot(page, 'tuning-new-study');
    await page.getByTestId('create-study').click();

    await page.getByTestId('chart-history').waitFor({ timeout: 60_000 });
    expect(page.url()).toMatch(/#\/tuning\/\d+$/);
    // A trial with a fixed learning rate, enqueued while the first trial trains: it runs next, within the five.
    await page.locator('[data-testid="enqueue-trial"] summary').click();
    await page.getByTestId('enqueue-optimizer.learningRate').fill('0.0025');
    await page.getByTestId('enqueue-submit').click();
    await expect.poll(async () => page.getByTestId('enqueue-message').textContent(), { timeout: 30_000 }).toMatch(/^Trial \d+ enqueued with 1 fixed parameter\./);
    // Live: the intermediate values chart gains lines while the first trials train.
    await expect.poll(() => drawn('chart-intermediate'), { timeout: 300_000 }).toBeGreaterThan(0);
    await screenshot(page, 'tuning-study-live');

    const finished = async () => Number(await page.getByTestId('count-completed').textContent()) + Number(await page.getByTestId('count-pruned').textContent());
    await expect.poll(finished, { timeout: 600_000, interval: 2000 }).toBe(5);
    await expect.poll(async () => page.getByTestId('run-status').first().textContent(), { timeout: 60_000 }).toBe('completed');

    const completed = Number(await page.getByTestId('count-completed').textContent());
    const pruned = Number(await page.getByTestId('count-pruned').textContent());
    expect(pruned).toBeGreaterThan(0);
    expect(await drawn('chart-history')).toBeGreaterThanOrEqual(completed);
    expect(await drawn('parallel-coordinates')).toBe(completed);
    expect(await page.locator('[data-testid="trial-row"]').count()).toBe(5);
    expect(await page.locator('[data-testid="trial-row"]', { hasText: '0.00250' }).count()).toBe(1);
    expect(await page.locator('[data-testid="trial-row"][data-state="pruned"]').count()).toBe(pruned);
    await expect.poll(async () => page.locator('[data-testid="importance"] .bar').count(), { timeout: 30_000 }).toBe(1);
    await expect.poll(async () => page.getByTestId('seconds-saved').count()).toBe(1);
    expect(await page.getByTestId('pruning-savings').textContent()).toMatch(/pruned trials skipped \d+ of \d+ epochs/);
    expect(Number(await page.getByTestId('best-value').textContent())).toBeGreaterThan(0);
    // The sampler and pruner read as words with their options, not as the stored JSON.
    expect(await page.getByTestId('study-algorithms').textContent()).toMatch(/sampler\s+random \(seed \d+\)\s+·\s+pruner\s+median \(nStartupTrials \d+, nWarmupSteps \d+\)/);
    await screenshot(page, 'tuning-study-done');

    // The trial table sorts by value; each trial links to its run.
    await page.getByTestId('sort-value').click();
    const values = (await page.locator('[data-testid="trial-row"][data-state="completed"] [data-testid="trial-value"]').allTextContents()).map(Number);
    expect(values).toEqual([...values].sort((a, b) => a - b));
    expect(await page.locator('[data-testid="trial-row"] a[href^="#/runs/"]').count()).toBe(5);

    // "Compare the top N" opens the compare page with the best trials' runs.
    await page.getByTestId('compare-top').click();
    // The router encodes the comma between run ids (%2C), as the compare page itself does.
    await expect.poll(() => page.url()).toMatch(/#\/compare\/\d+((,|%2C)\d+)+$/);
    await page.getByTestId('compare-charts').waitFor({ timeout: 30_000 });

    await page.goto(pageUrl(session, 'tuning'));
    await page.getByTestId('study-row').first().waitFor();
    expect(await page.getByTestId('study-best').first().textContent()).toMatch(/\(#\d+\)/);
    await screenshot(page, 'tuning-studies');
  }, 900_000);
});
