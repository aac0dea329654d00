/**
 * `npm run bench -- compare [runs] [steps]`: the compare page's three reads
 * for 50 runs (the most it takes) on a real database file: the runs table
 * (every config value, best and last of every metric), the curves of every
 * key by step (reduced to 300 points per run, as the page asks for 50 runs)
 * and the same grouped into seed replicates with min/max/mean bands, and the
 * captions of 8 evaluations of 5,000 images compared word by word.
 * Prints one JSON line per result (median of 5 after a warm-up).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StoreCompareService } from '../src/main/compare/service';
import { openSqliteStore } from '../src/main/store/sqliteStore';
import type { EvaluationItem, MetricInput } from '../src/shared/storeTypes';

function print(result: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify({ bench: 'compare', ...result })}\n`);
}

async function timed(repeats: number, body: () => Promise<unknown>): Promise<number> {
  await body();
  const samples: number[] = [];
  for (let index = 0; index < repeats; index++) {
    const start = performance.now();
    await body();
    samples.push((performance.now() - start) / 1000);
  }
  samples.sort((a, b) => a - b);
  return samples[Math.floor(samples.length / 2)] as number;
}

function positive(text: string | undefined, fallback: number, name: string): number {
  const value = Number(text ?? fallback);
  if (!Number.isInteger(value) || value < 1) throw new Error(`${name} must be a positive integer (got "${text}").`);
  return value;
}

const WORDS = ['a', 'red', 'blue', 'green', 'circle', 'square', 'triangle', 'above', 'below', 'big', 'small', 'on', 'the', 'left', 'right'];

export async function run(args: string[]): Promise<void> {
  const runCount = positive(args[0], 50, 'runs');
  const steps = positive(args[1], 5000, 'steps');
  const dir = mkdtempSync(join(tmpdir(), 'bench-compare-'));
  const store = openSqliteStore({ dataDir: dir });
  try {
    const runIds: number[] = [];
    for (let index = 0; index < runCount; index++) {
      const config = { name: `run-${index}`, seed: index % 5, decoder: { variant: index % 2 ? 'merge' : 'attention', units: 128 * (1 + (index % 3)) }, training: { learningRate: 0.001 / (1 + (index % 4)), epochs: 20, batchSize: 64 }, encoder: { source: 'scratch-cnn', imageSize: 64 } };
      const run = await store.runs.create({ name: config.name, config, status: 'running' });
      runIds.push(run.id);
      const points: MetricInput[] = [];
      for (let step = 0; step < steps; step++) {
        const epoch = Math.floor((step * 20) / steps);
        points.push({ runId: run.id, key: 'train/loss', step, epoch, value: 4 * Math.exp(-step / steps) + 0.1 * Math.sin(step + index), time: 1_700_000_000_000 + step * 100 });
        points.push({ runId: run.id, key: 'train/learningRate', step, epoch, value: 0.001, time: 1_700_000_000_000 + step * 100 });
        if ((step + 1) % (steps / 20) === 0) {
          for (const key of ['val/loss', 'val/bleu4', 'val/ciderD']) points.push({ runId: run.id, key, step, epoch, value: Math.random(), time: 1_700_000_000_000 + step * 100 });
        }
      }
      await store.metrics.append(points);
      await store.runs.setStatus(run.id, 'completed');
    }
    const images = 5000;
    const evaluationIds: number[] = [];
    for (let evaluation = 0; evaluation < 8; evaluation++) {
      const items: EvaluationItem[] = Array.from({ length: images }, (_, image) => ({
        imageId: `img-${String(image).padStart(5, '0')}`,
        imagePath: null,
        caption: Array.from({ length: 8 + (image % 5) }, (_, word) => WORDS[(image * 7 + word * 3 + (word === 2 ? evaluation : 0)) % WORDS.length]).join(' '),
        references: [],
        scores: { ciderD: ((image * 13 + evaluation * 7) % 100) / 50, bleu4: 0.3 },
      }));
      evaluationIds.push((await store.evaluations.create({ runId: runIds[evaluation % runIds.length]!, split: 'test', decoding: {}, metricDefinitions: {}, aggregate: {}, items })).id);
    }

    const compare = new StoreCompareService({ store });
    print({ name: 'table', runs: runCount, steps, seconds: await timed(5, () => compare.table(runIds)) });
    print({ name: 'curves', runs: runCount, steps, keys: 5, maxPoints: 300, seconds: await timed(5, () => compare.curves(runIds, { axis: 'step', maxPoints: 300 })) });
    print({
      name: 'curves-grouped',
      runs: runCount,
      steps,
      keys: 5,
      seconds: await timed(5, () => compare.curves(runIds, { axis: 'step', maxPoints: 300, group: { by: 'replicates', ignore: ['seed', 'name'] } })),
    });
    print({ name: 'curves-time', runs: runCount, steps, keys: 5, seconds: await timed(5, () => compare.curves(runIds, { axis: 'time', maxPoints: 300 })) });
    print({
      name: 'captions',
      evaluations: evaluationIds.length,
      images,
      seconds: await timed(5, () => compare.captions({ evaluationIds, sort: 'disagreement', metric: 'ciderD', limit: 25, offset: 0 })),
    });
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
