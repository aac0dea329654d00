/**
 * `npm run bench -- grid [images=10000]`: the Datasets page's thumbnail grid
 * with a large dataset, in Chromium against serve mode (needs `npm run build`
 * and /usr/bin/chromium). Scrolls from top to bottom and reports how many
 * thumbnails the DOM holds (virtualization keeps it bounded) and how long each
 * scroll step takes to render (the next animation frame).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { synthesizeShapes } from '../src/main/lib/data/shapes/synth';
import { pageUrl, startSession } from '../test/e2e/harness';

export async function run(args: string[]): Promise<void> {
  const images = Number(args[0] ?? 10_000);
  const root = mkdtempSync(join(tmpdir(), 'bench-grid-'));
  const datasetDir = join(root, 'shapes');
  const synthStarted = Date.now();
  await synthesizeShapes({ out: datasetDir, images, seed: 3, imageSize: 64 });
  const synthSeconds = (Date.now() - synthStarted) / 1000;

  const session = await startSession(join(root, 'data'));
  try {
    const { page } = session;
    await page.goto(pageUrl(session, 'datasets'));
    await page.getByTestId('first-start').waitFor();
    // Import through the UI's own form, as a user would.
    await page.getByTestId('import-path').fill(datasetDir);
    await page.getByRole('button', { name: 'Import' }).click();
    await page.getByTestId('thumb').first().waitFor({ timeout: 300_000 });

    const frames: number[] = [];
    let maxCells = 0;
    const grid = page.getByTestId('virtual-grid');
    const scrollHeight = await grid.evaluate((el) => el.scrollHeight);
    for (let step = 0; step < 60; step++) {
      const ms = await grid.evaluate(
        (el, top) =>
          new Promise<number>((resolve) => {
            // Runs in the page; the bench's own tsconfig has no DOM types.
            const raf = (globalThis as unknown as { requestAnimationFrame(callback: () => void): void }).requestAnimationFrame;
            const started = performance.now();
            el.scrollTop = top;
            el.dispatchEvent(new Event('scroll'));
            raf(() => raf(() => resolve(performance.now() - started)));
          }),
        Math.round((scrollHeight * step) / 59),
      );
      frames.push(ms);
      maxCells = Math.max(maxCells, await page.getByTestId('thumb').count());
    }
    const sorted = [...frames].sort((a, b) => a - b);
    const loaded = Number((await page.getByTestId('browse-total').textContent())?.replace(/[^0-9]/g, ''));
    process.stdout.write(
      `${JSON.stringify({
        bench: 'grid',
        images,
        imagesListed: loaded,
        synthSeconds,
        maxThumbnailsInDom: maxCells,
        scrollSteps: frames.length,
        meanStepMs: Number((frames.reduce((a, b) => a + b, 0) / frames.length).toFixed(1)),
        p95StepMs: Number(sorted[Math.floor(sorted.length * 0.95)]!.toFixed(1)),
      })}\n`,
    );
  } finally {
    await session.close();
  }
}
