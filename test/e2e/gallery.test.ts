/**
 * Evaluate from the UI and look at what the model saw, in Chromium against
 * serve mode: a small attention model is trained with the CLI, evaluated
 * from its run dashboard (a task with progress), and its gallery opened;
 * stepping through a caption's words changes the heatmap, the heatmap's
 * values are the attention the decoder used for each word (checked against
 * decoding in this process), the beam's alternatives have their own
 * attention, and the HTML report opens without the app.
 */
import { existsSync, readFileSync } from 'node:fs';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeImages } from '../../src/main/lib/data/images/loader';
import { normalizePixels } from '../../src/main/lib/data/images/normalize';
import { initBackend } from '../../src/main/ml/backend';
import { completeDecoding, toDecodeOptions } from '../../src/main/ml/captioning/decoding';
import { loadCheckpointModel } from '../../src/main/ml/captioning/model';
import { decode } from '../../src/main/ml/infer/decode';
import { pageUrl, runCli, screenshot, screenshotDir, startSession, type Session } from './harness';

let session: Session;
/** The chosen caption's words and the weights shown for each, from the stepping test. */
let chosen: { words: string[]; shown: number[][] } = { words: [], shown: [] };

beforeAll(async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'e2e-gallery-'));
  const shapes = join(dataDir, 'shapes');
  const synth = await runCli(['synth', '--out', shapes, '--images', '120', '--size', '32', '--seed', '3', '--register', '--data-dir', dataDir]);
  expect(synth.code, synth.stderr).toBe(0);
  // A small attention model, a few epochs (a couple of minutes on a busy CPU). Without the doubly
  // stochastic term its attention peaks on regions within these few steps (with it, it stays
  // nearly uniform for much longer: see docs/gallery.md).
  const settings = [
    'decoder.variant=attention',
    'decoder.doublyStochasticWeight=0',
    'encoder.imageSize=32',
    'encoder.scratchChannels=8',
    'decoder.attentionDim=64',
    'vocab.maxCaptionLength=12',
    'validation.subsetSize=8',
    'optimizer.learningRate=0.003',
  ].flatMap((setting) => ['--set', setting]);
  const trained = await runCli(['train', '--dataset', shapes, '--preset', 'shapes-quick', '--epochs', '4', '--batch-size', '16', ...settings, '--json', '--data-dir', dataDir]);
  expect(trained.code, trained.stderr).toBe(0);
  session = await startSession(dataDir);
}, 600_000);

afterAll(async () => {
  await session?.close();
});

async function weightsShown(): Promise<number[]> {
  const text = await session.page.getByTestId('heatmap').getAttribute('data-weights');
  return (text ?? '').split(',').map(Number);
}

async function canvasPixels(): Promise<string> {
  return session.page.getByTestId('heatmap-canvas').evaluate((canvas) => (canvas as unknown as { toDataURL(): string }).toDataURL());
}

describe('evaluation and gallery in the browser', () => {
  it('evaluates a run from its dashboard as a task with progress and lists how the numbers were made', async () => {
    const { page } = session;
    await page.goto(pageUrl(session, 'runs/1'));
    const section = page.getByTestId('run-evaluations');
    await section.waitFor({ timeout: 60_000 });
    // A shapes-quick run recommends plain decoding: no box starts ticked.
    expect(await page.getByTestId('eval-mirror').isChecked()).toBe(false);
    expect(await page.getByTestId('eval-recommended').count()).toBe(0);
    await page.getByTestId('eval-split').selectOption('test');
    await page.getByTestId('eval-beam').fill('3');
    await page.getByTestId('start-evaluation').click();
    await page.getByTestId('task-progress').waitFor();
    const row = page.getByTestId('evaluation-row').first();
    await row.waitFor({ timeout: 240_000 });
    expect(await row.textContent()).toMatch(/test/);
    expect(await row.textContent()).toMatch(/beam 3/);
    const how = page.getByTestId('evaluation-how');
    await how.waitFor();
    const text = (await how.textContent()) ?? '';
    expect(text).toMatch(/ptb-like-v1/);
    expect(text).toMatch(/coco-caption/);
    expect(text).toMatch(/CIDEr-D/);
    expect(text).toMatch(/METEOR/);
    await section.scrollIntoViewIfNeeded();
    await screenshot(page, 'run-evaluations');
  });

  it('opens the gallery worst first, filters by grounded error and marks the wrong claims', async () => {
    const { page } = session;
    await page.getByTestId('open-gallery').first().click();
    await page.getByTestId('gallery-item').first().waitFor({ timeout: 60_000 });
    const total = Number((await page.getByTestId('gallery-total').textContent())?.split(' ')[0]);
    expect(total).toBeGreaterThan(0);
    const scores = await page.getByTestId('gallery-item').evaluateAll((cards) => cards.map((card) => Number(card.getAttribute('data-score'))));
    expect(scores).toEqual([...scores].sort((a, b) => a - b));
    // The first two rows' thumbnails have loaded before the screenshot.
    await expect
      .poll(async () =>
        page.getByTestId('gallery-item').locator('img').evaluateAll((images) =>
          images.slice(0, 10).every((image) => (image as unknown as { complete: boolean; naturalWidth: number }).complete && (image as unknown as { naturalWidth: number }).naturalWidth > 0),
        ),
      )
      .toBe(true);
    await screenshot(page, 'gallery');

    await page.getByTestId('gallery-grounded').selectOption('any');
    await expect.poll(async () => Number((await page.getByTestId('gallery-total').textContent())?.split(' ')[0])).toBeLessThanOrEqual(total);
    const wrongCards = await page.getByTestId('gallery-item').count();
    if (wrongCards > 0) {
      // Every card left has at least one marked wrong claim.
      const marks = await page.getByTestId('gallery-item').evaluateAll((cards) => cards.map((card) => card.querySelectorAll('[data-testid="wrong-claim"]').length));
      expect(marks.every((count) => count > 0)).toBe(true);
      await screenshot(page, 'gallery-grounded-errors');
    }
    await page.getByTestId('gallery-grounded').selectOption('');
    await expect.poll(async () => Number((await page.getByTestId('gallery-total').textContent())?.split(' ')[0])).toBe(total);
  });

  it("steps through a caption's words, the heatmap changing with each, with the decoder's own attention", async () => {
    const { page } = session;
    await page.getByTestId('gallery-item').first().click();
    const detail = page.getByTestId('gallery-detail');
    await detail.waitFor();
    await page.getByTestId('heatmap').waitFor({ timeout: 120_000 });
    const words = await page.getByTestId('word-chip').allTextContents();
    expect(words.at(-1)).toBe('<end>');
    expect(words.length).toBeGreaterThan(1);

    const shown: number[][] = [];
    const pictures: string[] = [];
    for (let i = 0; i < words.length; i++) {
      if (i > 0) await detail.press('ArrowRight');
      await expect.poll(async () => page.getByTestId('current-word').textContent()).toContain(`“${words[i]}”`);
      shown.push(await weightsShown());
      pictures.push(await canvasPixels());
      await screenshot(page, `gallery-heatmap-word-${i + 1}`);
    }
    chosen = { words, shown };
    // Each step shows that word's weights; consecutive words do not show the same map.
    for (let i = 1; i < shown.length; i++) {
      expect(shown[i]).not.toEqual(shown[i - 1]);
      expect(pictures[i]).not.toBe(pictures[i - 1]);
    }

    // The weights shown are what the decoder used: decode the same image with the same checkpoint and settings here.
    const checkpoint = (await page.getByTestId('gallery-evaluation').first().getAttribute('data-checkpoint'))!;
    const imagePath = (await detail.getAttribute('data-image-path'))!;
    await initBackend();
    const model = await loadCheckpointModel(checkpoint, { dataDir: session.dataDir });
    try {
      const { inputSize, fit, normalization, maxPixels } = model.preprocessing;
      const { images } = await decodeImages([imagePath], { size: inputSize, fit, maxPixels });
      const features = tf.tidy(() => {
        const encoded = model.encoder.encode(tf.tensor4d(normalizePixels(images[0]!, normalization), [1, inputSize, inputSize, 3]));
        return { pooled: encoded.pooled, grid: encoded.grid };
      });
      const [caption] = decode(model.decoder, features, toDecodeOptions(completeDecoding({ strategy: 'beam', beamWidth: 3, lengthPenalty: 1 }, model.maxCaptionLength)));
      tf.dispose([features.pooled, features.grid]);
      expect([...model.vocabulary.decode(caption!.tokens), '<end>']).toEqual(words);
      expect(caption!.attention).toHaveLength(shown.length);
      shown.forEach((weights, t) => weights.forEach((w, region) => expect(w).toBeCloseTo(caption!.attention![t]![region]!, 5)));
    } finally {
      model.dispose();
    }

    // The raw grid carries the same values, cell by cell.
    await page.getByTestId('raw-grid').check();
    const cells = await page.getByTestId('heatmap-grid').locator('[data-weight]').evaluateAll((nodes) => nodes.map((node) => Number(node.getAttribute('data-weight'))));
    expect(cells).toEqual(shown.at(-1));
    await screenshot(page, 'gallery-raw-grid');
    await page.getByTestId('raw-grid').uncheck();

    // Either the attention is varied enough, or the user is told it is nearly uniform.
    const uniform = await page.getByTestId('uniform-warning').count();
    const spread = Math.max(...shown.flat()) / Math.min(...shown.flat());
    if (uniform === 0) expect(spread).toBeGreaterThan(1.5);
  });

  it("shows the beam's alternatives with their scores and their own attention", async () => {
    const { page } = session;
    const alternatives = page.getByTestId('beam-caption');
    expect(await alternatives.count()).toBeGreaterThan(1);
    expect(await alternatives.nth(1).textContent()).toMatch(/-?\d+\.\d{3}/);
    await page.getByTestId('gallery-detail').press('ArrowDown');
    await expect.poll(async () => page.getByTestId('current-word').textContent()).toMatch(/\(1 \//);
    const second = await page.getByTestId('word-chip').allTextContents();
    expect(second.at(-1)).toBe('<end>');
    // The attention for word t is computed from the decoder's state before it, which has read the
    // words before t-1 (Show, Attend and Tell attends with the previous hidden state). So it is the
    // same as the chosen caption's until one step after the captions part, and its own after that.
    const parted = second.findIndex((word, i) => word !== chosen.words[i]);
    expect(parted).toBeGreaterThanOrEqual(0);
    const detail = page.getByTestId('gallery-detail');
    const goTo = async (index: number) => {
      while (Number(((await page.getByTestId('current-word').textContent()) ?? '').match(/\((\d+) \//)?.[1]) - 1 < index) await detail.press('ArrowRight');
      await expect.poll(async () => page.getByTestId('current-word').textContent()).toContain(`“${second[index]}” (${index + 1} /`);
    };
    for (let i = 0; i <= Math.min(parted + 1, second.length - 1, chosen.shown.length - 1); i++) {
      await goTo(i);
      (await weightsShown()).forEach((w, region) => expect(w).toBeCloseTo(chosen.shown[i]![region]!, 6));
    }
    const own = parted + 2;
    if (own < second.length && own < chosen.shown.length) {
      await goTo(own);
      expect(await weightsShown()).not.toEqual(chosen.shown[own]);
    }
    await screenshot(page, 'gallery-beam-alternative');
    await page.getByTestId('gallery-detail').press('Escape');
    await expect.poll(async () => page.getByTestId('gallery-detail').count()).toBe(0);
  });

  it('exports a self-contained HTML report that opens without the app', async () => {
    const { page } = session;
    await page.getByTestId('gallery-export').click();
    const banner = page.getByTestId('gallery-report');
    await banner.waitFor({ timeout: 120_000 });
    const path = (await banner.locator('code').textContent())!;
    expect(existsSync(path)).toBe(true);
    const html = readFileSync(path, 'utf8');
    expect(html).toMatch(/src="data:image\/jpeg;base64,/);
    expect(html).not.toMatch(/(src|href)="(?!data:)/);
    expect(html.match(/<figure class="tile">/g)?.length).toBeGreaterThan(1);
    const report = await session.browser.newPage({ viewport: { width: 1200, height: 900 } });
    await report.goto(`file://${path}`);
    expect(await report.locator('article.card').count()).toBeGreaterThan(0);
    const broken = await report.locator('img').evaluateAll((images) => images.filter((image) => !(image as unknown as { naturalWidth: number }).naturalWidth).length);
    expect(broken).toBe(0);
    await screenshot(report, 'gallery-report');
    await report.screenshot({ path: join(screenshotDir, 'gallery-report-top.png') });
    await report.close();
  });
});
