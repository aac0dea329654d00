/**
 * The compare page in Chromium against serve mode, over a data directory
 * seeded with three runs (two seeds of one setting and a larger model),
 * their metrics, and two evaluations on the same test images: the runs
 * table, grouped curves, parallel coordinates, and the two runs' captions of
 * the same images side by side with their differing words highlighted.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventBus } from '../../src/main/core/eventBus';
import { Logger } from '../../src/main/core/logger';
import { SHAPES_IMAGE_DIR, shapesFilename, synthesizeItem, synthesizeShapes } from '../../src/main/lib/data/shapes/synth';
import { openWorkbenchStore } from '../../src/main/store/workbenchStore';
import type { EvaluationItem } from '../../src/shared/storeTypes';
import { pageUrl, screenshot, startSession, type Session } from './harness';

let session: Session;
let runIds: number[];
let evaluationIds: number[];
const IMAGES = 6;

/** What the seeded runs and evaluations hold; written before the server opens the store. */
async function seed(dataDir: string): Promise<void> {
  const shapes = join(dataDir, 'shapes');
  await synthesizeShapes({ out: shapes, images: IMAGES, seed: 3, imageSize: 96 });
  const store = openWorkbenchStore(dataDir, new EventBus(), new Logger(new EventBus(), () => undefined));
  try {
    const configs = [
      { name: 'merge-128-seed1', seed: 1, decoder: { variant: 'merge', units: 128 }, training: { learningRate: 0.001 } },
      { name: 'merge-128-seed2', seed: 2, decoder: { variant: 'merge', units: 128 }, training: { learningRate: 0.001 } },
      { name: 'attention-256', seed: 1, decoder: { variant: 'attention', units: 256 }, training: { learningRate: 0.0005 } },
    ];
    runIds = [];
    for (const [index, config] of configs.entries()) {
      const run = await store.runs.create({ name: config.name, config, status: 'running' });
      runIds.push(run.id);
      const points = [];
      for (let step = 0; step <= 60; step++) {
        const epoch = Math.floor(step / 20);
        points.push({ runId: run.id, key: 'train/loss', step, epoch, value: 4 * Math.exp(-step / (25 + 10 * index)) + 0.5 + 0.05 * Math.sin(step + index) });
        if (step % 20 === 19) {
          points.push({ runId: run.id, key: 'val/loss', step, epoch, value: 3.2 - 0.4 * epoch - 0.3 * index });
          points.push({ runId: run.id, key: 'val/ciderD', step, epoch, value: 0.2 + 0.15 * epoch + 0.1 * index + 0.02 * (index % 2) });
        }
      }
      await store.metrics.append(points);
      await store.runs.setStatus(run.id, 'completed');
    }
    // The two evaluations agree on some images and differ on others.
    const items = (variant: number): EvaluationItem[] =>
      Array.from({ length: IMAGES }, (_, index) => {
        const references = synthesizeItem(3, index).captions;
        // The second run says "magenta" for the second word of every odd image's caption.
        const words = references[0]!.split(' ');
        if (variant === 1 && index % 2 === 1) words[1] = 'magenta';
        const caption = words.join(' ');
        return { imageId: shapesFilename(index, 'png'), imagePath: join(shapes, SHAPES_IMAGE_DIR, shapesFilename(index, 'png')), caption, references, scores: { ciderD: variant === 0 ? 1 : index % 2 === 0 ? 1 : 0.1 * index, bleu4: 0.5 } };
      });
    evaluationIds = [];
    for (const [variant, runId] of [runIds[0]!, runIds[2]!].entries()) {
      const evaluation = await store.evaluations.create({ runId, split: 'test', decoding: { strategy: 'beam', beamWidth: 3 }, metricDefinitions: {}, aggregate: { ciderD: 0.8 - 0.3 * variant, bleu4: 0.5 }, items: items(variant) });
      evaluationIds.push(evaluation.id);
    }
  } finally {
    await store.close();
  }
}

beforeAll(async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'e2e-compare-'));
  await seed(dataDir);
  session = await startSession(dataDir);
});

afterAll(async () => {
  await session?.close();
});

describe('compare page in the browser', () => {
  it('puts three runs side by side in a table, with only the differing settings by default', async () => {
    const { page } = session;
    await page.goto(pageUrl(session, `compare/${runIds.join(',')}/table`));
    await page.getByTestId('runs-table').waitFor({ timeout: 30_000 });
    expect(await page.getByTestId('selected-count').textContent()).toBe('3 selected (up to 50)');
    const differing = await page.getByTestId('config-row').evaluateAll((rows) => rows.map((row) => row.getAttribute('data-path')));
    expect(differing.sort()).toEqual(['decoder.units', 'decoder.variant', 'name', 'seed', 'training.learningRate']);
    const cider = page.locator('[data-testid="metric-row"][data-key="val/ciderD"]');
    // Best @ epoch / last, and the best run is marked.
    expect(await cider.locator('td').nth(2).textContent()).toMatch(/0\.700\s*@2\s*\/\s*0\.700/);
    expect(await cider.locator('td.winner').count()).toBe(1);
    await screenshot(page, 'compare-table');
    await page.getByTestId('only-differing').uncheck();
    await expect.poll(() => page.getByTestId('config-row').count()).toBe(5);
    await page.getByTestId('only-differing').check();
  });

  it('overlays curves and groups the seeds into a min/max/mean band', async () => {
    const { page } = session;
    await page.getByTestId('compare-tab-curves').click();
    await page.getByTestId('compare-charts').waitFor();
    const lossChart = page.locator('[data-testid="chart"][data-title="train/loss"]');
    await expect.poll(async () => Number(await lossChart.getAttribute('data-points'))).toBe(3 * 61);
    await page.getByTestId('smoothing').fill('0.6');
    await page.getByTestId('log-scale').check();
    await page.getByTestId('group-mode').selectOption('replicates');
    await expect.poll(async () => page.getByTestId('curve-groups').getAttribute('data-count')).toBe('2');
    expect(await page.getByTestId('curve-groups').textContent()).toMatch(/group 1 \(2 runs\).*decoder\.units = 128/);
    await expect.poll(async () => lossChart.getAttribute('data-bands')).toBe('2');
    await page.getByTestId('curve-axis').selectOption('epoch');
    await expect.poll(async () => Number(await page.locator('[data-testid="chart"][data-title="val/loss"]').getAttribute('data-points'))).toBe(2 * 3);
    await screenshot(page, 'compare-curves');
  });

  it('draws parallel coordinates from the settings to a metric', async () => {
    const { page } = session;
    await page.getByTestId('compare-tab-parallel').click();
    const svg = page.getByTestId('parallel');
    await svg.waitFor();
    expect(await svg.getAttribute('data-lines')).toBe('3');
    // seed, decoder.units, decoder.variant, training.learningRate, then the metric (name is left out).
    expect(await svg.getAttribute('data-axes')).toBe('5');
    await page.getByTestId('parallel-metric').selectOption('val/ciderD');
    await screenshot(page, 'compare-parallel');
  });

  it('compares two runs’ captions of the same images, most disagreeing first, differing words highlighted', async () => {
    const { page } = session;
    await page.getByTestId('compare-tab-captions').click();
    for (const id of evaluationIds) await page.locator(`[data-testid="pick-evaluation"][data-id="${id}"]`).check();
    await page.getByTestId('caption-row').first().waitFor({ timeout: 30_000 });
    expect(await page.getByTestId('caption-row').count()).toBe(IMAGES);
    expect(await page.getByTestId('caption-summary').textContent()).toMatch(/6 images in common · 3 captioned identically/);
    const first = page.getByTestId('caption-row').first();
    // Odd images differ; among them the order is by disagreement, so the first row is an odd image.
    expect(Number((await first.getAttribute('data-image'))?.match(/\d+/)?.[0]) % 2).toBe(1);
    expect(await first.locator('mark').count()).toBeGreaterThan(0);
    expect(await first.getByTestId('compared-caption').nth(1).locator('mark').allTextContents()).toEqual(expect.arrayContaining(['magenta']));
    expect(await page.getByTestId('caption-row').last().locator('mark').count()).toBe(0);
    // The image itself loads through the media route.
    await expect.poll(async () => first.locator('img').evaluate((image) => (image as unknown as { naturalWidth: number }).naturalWidth)).toBeGreaterThan(0);
    await screenshot(page, 'compare-captions');
  });
});
