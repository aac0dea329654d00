/**
 * The caption playground in Chromium against serve mode: two tiny models
 * trained here (an attention decoder and a merge decoder, a few seconds
 * each on a small Shapes set), an image uploaded through the file chooser
 * and another dropped on the page, both models captioning it side by side
 * with confidence, beam alternatives and, for the attention model, a
 * heatmap per word.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventBus } from '../../src/main/core/eventBus';
import { Logger } from '../../src/main/core/logger';
import { SHAPES_IMAGE_DIR, shapesFilename, synthesizeShapes } from '../../src/main/lib/data/shapes/synth';
import { initBackend } from '../../src/main/ml/backend';
import { train } from '../../src/main/ml/train/trainer';
import { openWorkbenchStore } from '../../src/main/store/workbenchStore';
import { runConfigSchema } from '../../src/shared/runConfig';
import type { JsonObject } from '../../src/shared/storeTypes';
import { pageUrl, screenshot, startSession, type Session } from './harness';

let session: Session;
let datasetDir: string;

/** One short run of a tiny model on the Shapes set, recorded in the store as training through the API would. */
async function trainTiny(dataDir: string, name: string, variant: 'attention' | 'merge', decoding: Record<string, boolean> = {}): Promise<void> {
  const config = runConfigSchema.parse({
    name,
    dataset: { path: datasetDir },
    encoder: { source: 'scratch-cnn', imageSize: 32, scratchChannels: 4 },
    decoder: { variant, cell: 'lstm', layers: 1, embeddingDim: 128, units: 128, dropout: 0.1, attentionDim: 32 },
    vocab: { minCount: 1, maxCaptionLength: 12 },
    training: { epochs: 2, batchSize: 16, seed: 7 },
    validation: { subsetSize: 4, sampleImages: 1 },
    decoding,
  });
  const backend = await initBackend();
  const store = openWorkbenchStore(dataDir, new EventBus(), new Logger(new EventBus(), () => undefined));
  try {
    const run = await store.runs.create({ name, config: config as unknown as JsonObject, status: 'running' });
    const checkpoints: Parameters<typeof store.checkpoints.add>[0][] = [];
    await train({
      config,
      runDir: await store.runs.directory(run.id),
      dataDir,
      backend,
      onEvent: (event) => {
        if (event.kind === 'checkpoint') checkpoints.push({ runId: run.id, epoch: event.epoch, step: event.globalStep, path: event.path, metrics: event.metrics, isBest: event.isBest });
      },
    });
    for (const checkpoint of checkpoints) await store.checkpoints.add(checkpoint);
    await store.runs.setStatus(run.id, 'completed');
  } finally {
    await store.close();
  }
}

beforeAll(async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'e2e-playground-'));
  datasetDir = join(dataDir, 'shapes');
  await synthesizeShapes({ out: datasetDir, images: 24, seed: 8, imageSize: 64 });
  await trainTiny(dataDir, 'tiny-attention', 'attention');
  // The newest run, picked for the user at the start, recommends relation search.
  await trainTiny(dataDir, 'tiny-merge', 'merge', { relationSearch: true });
  session = await startSession(dataDir);
}, 300_000);

afterAll(async () => {
  await session?.close();
});

const imageFile = (index: number) => join(datasetDir, SHAPES_IMAGE_DIR, shapesFilename(index, 'png'));

describe('caption playground in the browser', () => {
  it('captions an uploaded image with two models side by side, with confidence, alternatives and attention', async () => {
    const { page } = session;
    await page.goto(pageUrl(session, 'playground'));
    await page.getByTestId('drop-zone').waitFor();
    // The checkpoints of both runs are offered; the newest is picked to start with.
    await expect.poll(() => page.getByTestId('pick-model').count()).toBeGreaterThanOrEqual(2);
    // It starts with the decoding that run recommends, and says so.
    expect(await page.getByTestId('playground-recommended').textContent()).toMatch(/^The boxes start as tiny-merge \(run \d+\) recommends: relation search\.$/);
    expect(await page.getByTestId('relation-search').isChecked()).toBe(true);
    expect(await page.getByTestId('converse-consensus').isChecked()).toBe(false);
    await page.getByTestId('image-file').setInputFiles(imageFile(3));
    await page.getByTestId('playground-image').waitFor();
    expect(await page.getByTestId('playground-image').evaluate((image) => (image as unknown as { naturalWidth: number }).naturalWidth)).toBe(64);

    // Pick one checkpoint of each run (the list is newest run first: merge, then attention).
    const labels = await page.getByTestId('pick-model').evaluateAll((inputs) => inputs.map((input) => input.closest('label')?.textContent ?? ''));
    const attentionIndex = labels.findIndex((label) => label.includes('tiny-attention'));
    const mergeIndex = labels.findIndex((label) => label.includes('tiny-merge'));
    const boxes = page.getByTestId('pick-model');
    if (!(await boxes.nth(attentionIndex).isChecked())) await boxes.nth(attentionIndex).check();
    if (!(await boxes.nth(mergeIndex).isChecked())) await boxes.nth(mergeIndex).check();
    await page.getByTestId('beam-width').fill('4');

    const results = page.getByTestId('playground-result');
    await expect.poll(() => results.count(), { timeout: 120_000 }).toBe(2);
    // A result without a caption shows why: say it if the wait fails.
    try {
      await expect.poll(async () => page.getByTestId('playground-caption').count(), { timeout: 120_000 }).toBe(2);
    } catch (error) {
      throw new Error(`${(error as Error).message}; the results said: ${JSON.stringify(await results.allTextContents())}`);
    }
    const attention = page.locator('[data-testid="playground-result"][data-label^="tiny-attention"]');
    const merge = page.locator('[data-testid="playground-result"][data-label^="tiny-merge"]');
    // A caption of words ending in <end>, a confidence in percent, alternatives from the beam of 4.
    const words = await attention.getByTestId('playground-caption').locator('button').allTextContents();
    expect(words.at(-1)).toBe('<end>');
    expect(words.length).toBeGreaterThan(1);
    expect(await attention.getByTestId('confidence').textContent()).toMatch(/^\d+(\.\d)?% confident$/);
    expect(await attention.getByTestId('alternatives').locator('li').count()).toBeGreaterThan(1);
    // The attention model shows a heatmap per word; clicking another word changes its weights.
    const heatmap = attention.getByTestId('heatmap');
    await heatmap.waitFor();
    const first = await heatmap.getAttribute('data-weights');
    const sum = first!.split(',').map(Number).reduce((a, b) => a + b, 0);
    expect(sum).toBeCloseTo(1, 4);
    await attention.getByTestId('playground-caption').locator('button').nth(1).click();
    await expect.poll(() => heatmap.getAttribute('data-weights')).not.toBe(first);
    // The merge decoder has no attention and says so.
    await merge.getByTestId('no-attention').waitFor();
    await screenshot(page, 'playground');
  });

  it('takes a dropped image and captions it at once', async () => {
    const { page } = session;
    const before = await page.getByTestId('playground-image').getAttribute('src');
    const bytes = readFileSync(imageFile(5)).toString('base64');
    const transfer = await page.evaluateHandle((data) => {
      const binary = atob(data);
      const file = new File([Uint8Array.from(binary, (char) => char.charCodeAt(0))], 'dropped.png', { type: 'image/png' });
      // Runs in the page, where DataTransfer exists; Node's types do not declare it.
      const { DataTransfer } = globalThis as unknown as { DataTransfer: new () => { items: { add(file: File): void } } };
      const dataTransfer = new DataTransfer();
      dataTransfer.items.add(file);
      return dataTransfer;
    }, bytes);
    await page.getByTestId('drop-zone').dispatchEvent('drop', { dataTransfer: transfer });
    await expect.poll(() => page.getByTestId('playground-image').getAttribute('src')).not.toBe(before);
    expect(await page.getByTestId('drop-zone').textContent()).toContain('dropped.png');
    // The results shown are for the dropped image (its upload's path), never the previous one's.
    const uploaded = decodeURIComponent(/[?&]path=([^&]+)/.exec((await page.getByTestId('playground-image').getAttribute('src'))!)![1]!);
    await expect.poll(() => page.getByTestId('playground-results').getAttribute('data-image'), { timeout: 120_000 }).toBe(uploaded);
    expect(await page.getByTestId('playground-caption').count()).toBe(2);
    const heatmapImage = page.locator('[data-testid="playground-result"] [data-testid="heatmap"] img');
    expect(decodeURIComponent((await heatmapImage.getAttribute('src'))!)).toContain(uploaded);
    await screenshot(page, 'playground-dropped');
  });

  it('captions again with converse consensus ticked, both models, no error', async () => {
    const { page } = session;
    await page.getByTestId('beam-width').fill('2');
    await page.getByTestId('converse-consensus').check();
    expect(await page.getByTestId('converse-consensus').isChecked()).toBe(true);
    // A box changed by the user: the boxes no longer say what the run recommends.
    expect(await page.getByTestId('playground-recommended').count()).toBe(0);
    // Both models answer the new request: each result says how it was decoded.
    await expect
      .poll(async () => (await page.getByTestId('result-decoding').allTextContents()).filter((text) => text.includes('beam 2, converse consensus')).length, { timeout: 120_000 })
      .toBe(2);
    expect(await page.locator('[role="alert"]').count()).toBe(0);
    expect((await page.getByTestId('playground-caption').first().textContent())?.length).toBeGreaterThan(0);
    await screenshot(page, 'playground-consensus');
  });

  it('captions again with relation search ticked beside the converse, both models, no error', async () => {
    const { page } = session;
    await page.getByTestId('relation-search').check();
    await expect
      .poll(async () => (await page.getByTestId('result-decoding').allTextContents()).filter((text) => text.includes('beam 2, converse consensus, relation search')).length, { timeout: 120_000 })
      .toBe(2);
    expect(await page.locator('[role="alert"]').count()).toBe(0);
    await screenshot(page, 'playground-relation-search');
  });
});
