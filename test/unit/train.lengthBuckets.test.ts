/** Batches by caption length: the padded lengths, the epoch's batches, and a run that uses them. */
import { beforeAll, describe, expect, it } from 'vitest';
import { Rng } from '../../src/main/ml/model/rng';
import { epochBatches } from '../../src/main/ml/train/batches';
import { batchesByLength, meanBatchWords, paddedLength, paddedLengths, wordWeight } from '../../src/main/ml/train/lengthBuckets';
import { configFromPreset, validateRunConfig } from '../../src/shared/runConfig';
import { useTestBackend } from '../helpers/captionModel';
import { stepLosses, tinyConfig, tinyWorkspace, trainTiny, type TinyWorkspace } from '../helpers/trainingRun';

/** Steps run when every caption is padded to the smallest of `padded` that holds it. */
const stepsRun = (lengths: readonly number[], padded: readonly number[]) => lengths.reduce((sum, length) => sum + paddedLength(padded, length), 0);

/** Every choice of `buckets` padded lengths among the distinct lengths (the longest always among them). */
function bestByTrying(lengths: readonly number[], buckets: number): number {
  const distinct = [...new Set(lengths)].sort((a, b) => a - b);
  const longest = distinct.pop()!;
  let best = Infinity;
  const choose = (from: number, chosen: number[]) => {
    if (chosen.length === buckets - 1 || from === distinct.length) {
      best = Math.min(best, stepsRun(lengths, [...chosen, longest]));
      if (chosen.length === buckets - 1) return;
    }
    for (let index = from; index < distinct.length; index++) choose(index + 1, [...chosen, distinct[index]!]);
  };
  choose(0, []);
  return best;
}

/** Caption steps as the Shapes set has them (words + 1), counts from a 2,000-image set's 10,000 captions. */
const SHAPES_HISTOGRAM: Array<[number, number]> = [[3, 84], [4, 76], [7, 1126], [8, 1769], [9, 1571], [10, 1457], [11, 844], [12, 859], [13, 411], [14, 431], [15, 622], [16, 191], [17, 65], [19, 329], [20, 165]];
const shapesLengths = () => new Rng(3).shuffled(SHAPES_HISTOGRAM.flatMap(([length, count]) => new Array<number>(count).fill(length)));

describe('the padded lengths', () => {
  it('are the distinct lengths when there are few enough', () => {
    expect(paddedLengths([5, 3, 5, 9], 6)).toEqual([3, 5, 9]);
  });

  it('waste the fewest steps: the same as trying every choice', () => {
    const rng = new Rng(17);
    for (let trial = 0; trial < 40; trial++) {
      const lengths = Array.from({ length: 30 + rng.int(200) }, () => 2 + rng.int(5 + rng.int(14)));
      const buckets = 1 + rng.int(5);
      const padded = paddedLengths(lengths, buckets);
      expect(padded.length).toBeLessThanOrEqual(buckets);
      expect(padded.at(-1)).toBe(Math.max(...lengths));
      expect([...padded].sort((a, b) => a - b)).toEqual(padded);
      expect(stepsRun(lengths, padded)).toBe(bestByTrying(lengths, buckets));
    }
  });

  it('pad a caption to the smallest length that holds it, and a longer one than any to itself', () => {
    expect(paddedLength([8, 12, 20], 3)).toBe(8);
    expect(paddedLength([8, 12, 20], 12)).toBe(12);
    expect(paddedLength([8, 12, 20], 13)).toBe(20);
    expect(paddedLength([8, 12, 20], 23)).toBe(23);
  });
});

describe('the batches of an epoch by length', () => {
  const lengths = shapesLengths();
  const padded = paddedLengths(lengths);
  const batchSize = 32;

  it('hold every caption once, as many batches as random ones, drawn anew each epoch and the same for the same (seed, epoch)', () => {
    const first = batchesByLength(42, 0, lengths, batchSize, padded);
    expect(first.flat().sort((a, b) => a - b)).toEqual(lengths.map((_, index) => index));
    expect(first).toHaveLength(epochBatches(42, 0, lengths.map((_, index) => index), batchSize).length);
    expect(batchesByLength(42, 0, lengths, batchSize, padded)).toEqual(first);
    expect(batchesByLength(42, 1, lengths, batchSize, padded)).not.toEqual(first);
    expect(batchesByLength(7, 0, lengths, batchSize, padded)).not.toEqual(first);
    // Shuffled batches: the epoch does not run from short to long.
    const order = first.map((batch) => paddedLength(padded, Math.max(...batch.map((caption) => lengths[caption]!))));
    expect(order).not.toEqual([...order].sort((a, b) => a - b));
  });

  it('mix two padded lengths only at a border, and run far fewer recurrent steps than random batches on Shapes captions', () => {
    const stepsOf = (batch: number[]) => Math.max(...batch.map((caption) => lengths[caption]!));
    const byLength = batchesByLength(42, 0, lengths, batchSize, padded);
    const mixed = byLength.filter((batch) => new Set(batch.map((caption) => paddedLength(padded, lengths[caption]!))).size > 1);
    expect(mixed.length).toBeLessThanOrEqual(padded.length - 1);
    const paddedSteps = byLength.reduce((sum, batch) => sum + paddedLength(padded, stepsOf(batch)), 0);
    const randomSteps = epochBatches(42, 0, lengths.map((_, index) => index), batchSize).reduce((sum, batch) => sum + stepsOf(batch), 0);
    // Random batches of 32 pay for about 18.7 steps each; the mean caption has 10.5.
    expect(paddedSteps / randomSteps).toBeLessThan(0.7);
    // Every batch uses one of the few step shapes.
    expect(new Set(byLength.map((batch) => paddedLength(padded, stepsOf(batch)))).size).toBeLessThanOrEqual(padded.length);
  });
});

describe('the weight of a step by its words', () => {
  it('averages 1 over an epoch by length, below 1 for short batches and above for long ones; random batches stay near 1', () => {
    const lengths = shapesLengths();
    const padded = paddedLengths(lengths);
    const byLength = batchesByLength(42, 0, lengths, 32, padded);
    const mean = meanBatchWords(lengths, byLength.length);
    const words = (batch: number[]) => batch.reduce((sum, caption) => sum + lengths[caption]!, 0);
    const weights = byLength.map((batch) => wordWeight(words(batch), mean));
    expect(weights.reduce((sum, weight) => sum + weight, 0) / weights.length).toBeCloseTo(1, 10);
    const full = weights.filter((_, index) => byLength[index]!.length === 32);
    // Batches of the shortest bucket (3 to 8 steps) hold two thirds of the mean words, those of the longest (17 to 20) over 1.6 times.
    expect(Math.min(...full)).toBeLessThan(0.7);
    expect(Math.max(...full)).toBeGreaterThan(1.6);
    const random = epochBatches(42, 0, lengths.map((_, index) => index), 32).filter((batch) => batch.length === 32);
    for (const batch of random) expect(Math.abs(wordWeight(words(batch), mean) - 1)).toBeLessThan(0.35);
  });
});

describe('training with batches by length', () => {
  let workspace: TinyWorkspace;
  beforeAll(async () => {
    await useTestBackend();
    workspace = await tinyWorkspace();
  });

  it('says its padded lengths, and stopping and resuming gives the same losses as running straight through', async () => {
    const config = tinyConfig(workspace.dataset, (c) => {
      c.training.batchByLength = true;
      c.decoder.variant = 'attention';
    });
    const logged: string[] = [];
    const straight = await trainTiny(workspace, config, { maxSteps: 6, log: (_level, message) => logged.push(message) });
    expect(logged.find((line) => line.startsWith('Batches by caption length'))).toMatch(/^Batches by caption length, padded to (\d+, )*\d+ steps\.$/);
    const first = await trainTiny(workspace, config, { maxSteps: 3 });
    const resumed = await trainTiny(workspace, config, { maxSteps: 3, resumeFrom: first.result.lastCheckpoint!, runDir: first.runDir });
    expect(stepLosses([...first.events, ...resumed.events])).toEqual(stepLosses(straight.events));
    const random = await trainTiny(workspace, { ...config, training: { ...config.training, batchByLength: false } }, { maxSteps: 6 });
    expect(stepLosses(random.events)).not.toEqual(stepLosses(straight.events));
  });

  it('is refused with captions per image above 1, naming the field', () => {
    const config = configFromPreset('shapes-grounded', { dataset: { path: workspace.dataset } });
    const checked = validateRunConfig({ ...config, training: { ...config.training, batchByLength: true, captionsPerImage: 2 } });
    expect(checked.ok).toBe(false);
    if (!checked.ok) expect(checked.issues).toEqual([{ path: 'training.batchByLength', message: expect.stringContaining('captions per image 1') }]);
    expect(validateRunConfig({ ...config, training: { ...config.training, batchByLength: true } }).ok).toBe(true);
  });
});
