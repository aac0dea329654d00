/**
 * `npm run bench -- study-ui [trials=1000] [epochs=8]`: the Tuning page's
 * study view with a large study, in Chromium against serve mode (needs
 * `npm run build` and /usr/bin/chromium). The study and its trials (values,
 * per-epoch intermediate values, a third of them pruned) are written straight
 * into the SQLite store of a temporary data directory; then the study view is
 * opened and, for each chart and for the trial table, the time from
 * navigation to the first animation frame in which it is drawn is printed as
 * one JSON line.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSqliteStore } from '../src/main/store';
import { pageUrl, screenshot, startSession } from '../test/e2e/harness';

const SPACE = {
  'optimizer.learningRate': { type: 'float', low: 1e-5, high: 1e-2, log: true },
  'decoder.units': { type: 'int', low: 128, high: 512, step: 32 },
  'decoder.dropout': { type: 'float', low: 0.1, high: 0.5 },
  'training.batchSize': { type: 'int', low: 16, high: 128, log: true },
  'decoder.cell': { type: 'categorical', choices: ['lstm', 'gru'] },
};

/** A small deterministic generator (mulberry32), so every bench run stores the same study. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

async function writeStudy(dataDir: string, trials: number, epochs: number): Promise<number> {
  const store = openSqliteStore({ dataDir });
  try {
    const study = await store.studies.create({
      name: 'bench study',
      objective: 'val/loss',
      direction: 'minimize',
      searchSpace: SPACE,
      sampler: 'tpe',
      pruner: 'median',
      baseConfig: { dataset: { path: '/nonexistent/bench' }, training: { epochs } },
      taskParams: { studyName: 'bench study', trials, parallel: 1 },
    });
    const rand = random(7);
    for (let n = 0; n < trials; n++) {
      const lr = 10 ** (-5 + 3 * rand());
      const params = {
        'optimizer.learningRate': lr,
        'decoder.units': 128 + 32 * Math.floor(rand() * 13),
        'decoder.dropout': 0.1 + 0.4 * rand(),
        'training.batchSize': Math.round(2 ** (4 + 3 * rand())),
        'decoder.cell': rand() < 0.5 ? 'lstm' : 'gru',
      };
      const trial = await store.studies.createTrial(study.id, params, 'running');
      // Loss falls with epochs, lowest near lr = 1e-3.
      const floor = 1 + (Math.log10(lr) + 3) ** 2 + 0.3 * rand();
      const pruned = n >= 10 && rand() < 0.35;
      const trained = pruned ? 1 + Math.floor(rand() * (epochs - 1)) : epochs;
      let best = Infinity;
      for (let step = 1; step <= trained; step++) {
        const value = floor + 3 / step + 0.05 * rand();
        best = Math.min(best, value);
        await store.studies.reportIntermediate(trial.id, step, value);
      }
      await store.studies.setTrialState(trial.id, pruned ? 'pruned' : 'completed', pruned ? {} : { value: best });
    }
    // Finished: serve mode must not start trials for it.
    await store.studies.setStatus(study.id, 'completed');
    return study.id;
  } finally {
    await store.close();
  }
}

const TARGETS = {
  history: '[data-testid="chart-history"] canvas[data-drawn]',
  intermediate: '[data-testid="chart-intermediate"] canvas[data-drawn]',
  parallelCoordinates: '[data-testid="parallel-coordinates"] canvas[data-drawn]',
  importance: '[data-testid="importance"] .bar',
  slices: '[data-testid="chart-slice"] canvas[data-drawn]',
  contour: '[data-testid="contour"] canvas[data-drawn]',
  trialTable: '[data-testid="trial-row"]',
};

export async function run(args: string[]): Promise<void> {
  const trials = Number(args[0] ?? 1000);
  const epochs = Number(args[1] ?? 8);
  const root = mkdtempSync(join(tmpdir(), 'bench-study-ui-'));
  const dataDir = join(root, 'data');
  const writeStarted = Date.now();
  const studyId = await writeStudy(dataDir, trials, epochs);
  const writeSeconds = (Date.now() - writeStarted) / 1000;

  const session = await startSession(dataDir);
  try {
    const { page } = session;
    // Watches every frame from the start of the page for the first one in which each target is drawn.
    // Source text rather than a function: the TypeScript loader would wrap a function's inner names in a helper the page lacks.
    await page.addInitScript(`
      window.__paints = {};
      const targets = ${JSON.stringify(TARGETS)};
      const tick = () => {
        for (const [name, selector] of Object.entries(targets)) {
          if (window.__paints[name] === undefined && document.querySelector(selector)) window.__paints[name] = performance.now();
        }
        if (Object.keys(window.__paints).length < Object.keys(targets).length) requestAnimationFrame(tick);
      };
      requestAnimationFrame(tick);
    `);
    await page.goto(pageUrl(session, `tuning/${studyId}`));
    try {
      await page.waitForFunction((count) => Object.keys((globalThis as unknown as { __paints: object }).__paints).length >= count, Object.keys(TARGETS).length, {
        timeout: 120_000,
      });
    } catch (error) {
      const seen = await page.evaluate(() => (globalThis as unknown as { __paints: Record<string, number> }).__paints);
      const shot = await screenshot(page, 'bench-study-ui-timeout');
      throw new Error(`Not drawn in 2 minutes: ${Object.keys(TARGETS).filter((name) => !(name in seen)).join(', ')} (screenshot ${shot}): ${(error as Error).message}`);
    }
    const paints = await page.evaluate(() => (globalThis as unknown as { __paints: Record<string, number> }).__paints);
    const rows = await page.getByTestId('trial-row').count();
    for (const name of Object.keys(TARGETS)) {
      process.stdout.write(`${JSON.stringify({ bench: 'study-ui', view: name, trials, epochs, firstPaintMs: Math.round(paints[name]!), ...(name === 'trialTable' ? { rowsRendered: rows } : {}), writeSeconds })}\n`);
    }
    // Staying responsive: re-sorting the thousand-row table by value, to the next frame.
    const sortMs = await page.evaluate(
      () =>
        new Promise<number>((resolve) => {
          const g = globalThis as unknown as { document: { querySelector(s: string): { click(): void } }; requestAnimationFrame(callback: () => void): void };
          const started = performance.now();
          g.document.querySelector('[data-testid="sort-value"]').click();
          g.requestAnimationFrame(() => g.requestAnimationFrame(() => resolve(performance.now() - started)));
        }),
    );
    process.stdout.write(`${JSON.stringify({ bench: 'study-ui', view: 'trialTableSort', trials, ms: Math.round(sortMs) })}\n`);
  } finally {
    await session.close();
  }
}
