import { describe, expect, it } from 'vitest';
import { Vocabulary } from '../../src/main/lib/data/text/vocabulary';
import { hostBatch } from '../../src/main/ml/train/batches';
import { Flip } from '../../src/main/ml/train/augmentation';
import { WordDropout } from '../../src/main/ml/train/wordDropout';
import { ConverseRelations } from '../../src/main/ml/train/converseRelations';
import { UNK_ID } from '../../src/main/lib/data/text/vocabulary';
import { configFromPreset, runConfigSchema } from '../../src/shared/runConfig';

const vocabulary = Vocabulary.build([['a', 'red', 'circle', 'left', 'of', 'a', 'star'], ['a', 'star', 'right', 'of', 'a', 'circle']], { minCount: 1 });
const caption = (words: string[]) => [1, ...words.map((word) => vocabulary.id(word)), 2];
const words = (ids: Int32Array, from: number, length: number) => Array.from(ids.subarray(from, from + length), (id) => vocabulary.token(id));

describe('horizontal flip of training batches', () => {
  const items = Array.from({ length: 40 }, (_, image) => ({ image, tokens: caption(image % 2 ? ['a', 'star', 'right', 'of', 'a', 'circle'] : ['a', 'red', 'circle', 'left', 'of', 'a', 'star', 'a']) }));
  const batch = hostBatch(items as never);
  const flip = new Flip(vocabulary, 42, 'horizontal');

  it('swaps left and right in exactly the flipped rows, in inputs and targets', () => {
    const flipped = flip.apply(batch, 3);
    expect(flipped.flips).toHaveLength(40);
    const count = flipped.flips!.filter(Boolean).length;
    expect(count).toBeGreaterThan(5);
    expect(count).toBeLessThan(35);
    flipped.flips!.forEach((isFlipped, row) => {
      const input = words(flipped.inputs, row * batch.steps, batch.lengths[row]!);
      const original = words(batch.inputs, row * batch.steps, batch.lengths[row]!);
      const swap = (word: string) => (word === 'left' ? 'right' : word === 'right' ? 'left' : word);
      expect(input).toEqual(isFlipped ? original.map(swap) : original);
      expect(words(flipped.targets, row * batch.steps, batch.lengths[row]!)).toEqual(
        isFlipped ? words(batch.targets, row * batch.steps, batch.lengths[row]!).map(swap) : words(batch.targets, row * batch.steps, batch.lengths[row]!),
      );
    });
    // The batch handed in is not changed.
    expect(batch.flips).toBeUndefined();
  });

  it('draws the same flips for the same step (exact resume) and different ones for another step', () => {
    expect(flip.apply(batch, 7).flips).toEqual(flip.apply(batch, 7).flips);
    expect(flip.apply(batch, 7).flips).not.toEqual(flip.apply(batch, 8).flips);
  });
});

describe('vertical flip of training batches', () => {
  const vertical = Vocabulary.build([['a', 'circle', 'above', 'a', 'star', 'at', 'the', 'top', 'left'], ['a', 'star', 'below', 'a', 'circle', 'at', 'the', 'bottom']], { minCount: 1 });
  const encode = (words: string[]) => [1, ...words.map((word) => vertical.id(word)), 2];
  const items = Array.from({ length: 40 }, (_, image) => ({ image, tokens: encode(image % 2 ? ['a', 'star', 'below', 'a', 'circle', 'at', 'the', 'bottom'] : ['a', 'circle', 'above', 'a', 'star', 'at', 'the', 'top', 'left']) }));
  const batch = hostBatch(items as never);
  const text = (ids: Int32Array, row: number) => Array.from(ids.subarray(row * batch.steps, row * batch.steps + batch.lengths[row]!), (id) => vertical.token(id));

  it('swaps above and below, top and bottom (never left and right) in exactly the flipped rows', () => {
    const flipped = new Flip(vertical, 42, 'vertical').apply(batch, 3);
    expect(flipped.flips).toBeUndefined();
    const count = flipped.verticalFlips!.filter(Boolean).length;
    expect(count).toBeGreaterThan(5);
    expect(count).toBeLessThan(35);
    const swap: Record<string, string> = { above: 'below', below: 'above', top: 'bottom', bottom: 'top' };
    flipped.verticalFlips!.forEach((isFlipped, row) => {
      const original = text(batch.inputs, row);
      expect(text(flipped.inputs, row)).toEqual(isFlipped ? original.map((word) => swap[word] ?? word) : original);
      expect(text(flipped.inputs, row)).toContain(row % 2 ? 'a' : 'left');
    });
  });

  it('draws apart from the horizontal flip, and the two compose', () => {
    const both = new Flip(vocabulary, 42, 'vertical').apply(new Flip(vocabulary, 42, 'horizontal').apply(hostBatch(items as never), 3), 3);
    expect(both.flips).toHaveLength(40);
    expect(both.verticalFlips).toHaveLength(40);
    expect(both.verticalFlips).not.toEqual(both.flips);
    expect(new Flip(vertical, 42, 'vertical').apply(batch, 7).verticalFlips).toEqual(new Flip(vertical, 42, 'vertical').apply(batch, 7).verticalFlips);
  });
});

describe('word dropout of training batches', () => {
  const items = Array.from({ length: 64 }, (_, image) => ({ image, tokens: caption(image % 2 ? ['a', 'star', 'right', 'of', 'a', 'circle'] : ['a', 'red', 'circle', 'left', 'of', 'a', 'star', 'a']) }));
  const batch = hostBatch(items as never);

  it('hides about p of the words read after <start>, never <start>, padding, targets or the mask', () => {
    const dropped = new WordDropout(0.25, 42).apply(batch, 5);
    let hidden = 0;
    let readable = 0;
    for (let row = 0; row < batch.rows; row++) {
      for (let t = 0; t < batch.steps; t++) {
        const at = row * batch.steps + t;
        if (t === 0 || t >= batch.lengths[row]!) {
          expect(dropped.inputs[at]).toBe(batch.inputs[at]);
          continue;
        }
        readable += 1;
        if (dropped.inputs[at] !== batch.inputs[at]) {
          expect(dropped.inputs[at]).toBe(UNK_ID);
          hidden += 1;
        }
      }
    }
    // 64 rows of 6 or 8 readable words: 448; a quarter of them is 112, with a standard deviation of about 9.
    expect(readable).toBe(448);
    expect(hidden).toBeGreaterThan(80);
    expect(hidden).toBeLessThan(145);
    expect(dropped.targets).toEqual(batch.targets);
    expect(dropped.mask).toEqual(batch.mask);
    // The batch handed in is not changed.
    expect(batch.inputs.includes(UNK_ID)).toBe(false);
  });

  it('draws from (seed, step): the same words for a resumed step, others for another step or seed', () => {
    const dropout = new WordDropout(0.25, 42);
    expect(dropout.apply(batch, 9).inputs).toEqual(dropout.apply(batch, 9).inputs);
    expect(dropout.apply(batch, 9).inputs).not.toEqual(dropout.apply(batch, 10).inputs);
    expect(new WordDropout(0.25, 7).apply(batch, 9).inputs).not.toEqual(dropout.apply(batch, 9).inputs);
  });

  it('refuses a probability outside (0, 1)', () => {
    expect(() => new WordDropout(0, 1)).toThrow(/probability 0/);
    expect(() => new WordDropout(1, 1)).toThrow(/probability 1/);
  });
});

describe('run config: augmentation and time budget', () => {
  it('are off by default and on in the shapes-grounded preset', () => {
    const plain = runConfigSchema.parse({ dataset: { path: '/d' } });
    expect(plain.training.horizontalFlip).toBe(false);
    expect(plain.training.verticalFlip).toBe(false);
    expect(plain.training.maxMinutes).toBe(0);
    const grounded = configFromPreset('shapes-grounded', { dataset: { path: '/d' } });
    expect(grounded.training.horizontalFlip).toBe(true);
    expect(grounded.training.maxMinutes).toBe(10);
    expect(grounded.decoder.variant).toBe('attention');
  });

  it('rejects a negative time budget, naming the field', () => {
    const parsed = runConfigSchema.safeParse({ dataset: { path: '/d' }, training: { maxMinutes: -1 } });
    expect(parsed.success).toBe(false);
    expect(parsed.error!.issues[0]!.path.join('.')).toBe('training.maxMinutes');
  });
});

describe('time budget', () => {
  it('stops before an epoch that would end past the budget, never without one', async () => {
    const { TimeBudget } = await import('../../src/main/ml/train/timeBudget');
    const minute = 60_000;
    const budget = new TimeBudget(10, 0, 0);
    // 7 minutes in, the last epoch took 2: another would end at 9 < 10.
    expect(budget.noRoomForAnotherEpoch(5 * minute, 7 * minute)).toBe(false);
    // 9 minutes in, the last epoch took 2: another would end at 11 > 10.
    expect(budget.noRoomForAnotherEpoch(7 * minute, 9 * minute)).toBe(true);
    expect(new TimeBudget(0, 0, 0).noRoomForAnotherEpoch(0, 1000 * minute)).toBe(false);
  });

  it('counts the minutes of earlier calls, so a resumed run continues its budget', async () => {
    const { TimeBudget } = await import('../../src/main/ml/train/timeBudget');
    const minute = 60_000;
    // Resumed after 6 minutes of training, at clock time 100 minutes.
    const resumed = new TimeBudget(10, 6 * 60, 100 * minute);
    expect(resumed.spentSeconds(102 * minute)).toBeCloseTo(8 * 60, 9);
    expect(resumed.leftSeconds(102 * minute)).toBeCloseTo(2 * 60, 9);
    // 8 minutes spent and the last epoch took 2: another would end past 10.
    expect(resumed.noRoomForAnotherEpoch(100.5 * minute, 102.5 * minute)).toBe(true);
    expect(resumed.leftSeconds(200 * minute)).toBe(0);
    expect(new TimeBudget(0, 6 * 60, 0).leftSeconds(minute)).toBeNull();
  });
});

describe('converse relations in training batches', () => {
  const told = Vocabulary.build([['a', 'red', 'circle', 'left', 'of', 'a', 'star', 'right', 'and', 'box']], { minCount: 1 });
  const ids = (text: string) => [1, ...text.split(' ').map((word) => told.id(word)), 2];
  const textOf = (values: Int32Array, from: number, length: number) => Array.from(values.subarray(from, from + length), (id) => told.token(id)).join(' ');
  const captions = ['a red circle left of a star', 'a circle and a star', 'a star right of a box'];
  const items = Array.from({ length: 60 }, (_, image) => ({ image, tokens: Int32Array.from(ids(captions[image % 3]!)) }));
  const batch = hostBatch(items);
  const converse = new ConverseRelations(told, 42);

  it('tells about half of the relation rows from the other object, in inputs and targets alike, and leaves the rest', () => {
    const out = converse.apply(batch, 5);
    let rewritten = 0;
    for (let row = 0; row < batch.rows; row++) {
      const words = batch.lengths[row]! - 1;
      const begin = row * batch.steps;
      const target = textOf(out.targets, begin, words);
      // Inputs are <start> and the targets' words, shifted by one.
      expect(textOf(out.inputs, begin + 1, words)).toBe(target);
      expect(out.inputs[begin]).toBe(1);
      expect(out.targets[begin + words]).toBe(2);
      const original = captions[row % 3]!;
      if (row % 3 === 1) expect(target).toBe(original);
      else if (target !== original) {
        rewritten++;
        expect(target).toBe(row % 3 === 0 ? 'a star right of a red circle' : 'a box left of a star');
      }
    }
    expect(rewritten).toBeGreaterThan(8);
    expect(rewritten).toBeLessThan(32);
    expect(out.mask).toEqual(batch.mask);
    expect(out.lengths).toEqual(batch.lengths);
    // The batch it was given is untouched.
    expect(textOf(batch.targets, 0, 7)).toBe(captions[0]);
  });

  it('draws the same rows for the same step, other rows for another', () => {
    expect(Array.from(converse.apply(batch, 5).targets)).toEqual(Array.from(converse.apply(batch, 5).targets));
    expect(Array.from(converse.apply(batch, 6).targets)).not.toEqual(Array.from(converse.apply(batch, 5).targets));
  });

  it('is off by default and can be set in a run configuration', () => {
    expect(runConfigSchema.parse({ dataset: { path: '/d' } }).training.converseRelations).toBe(false);
    expect(runConfigSchema.parse({ dataset: { path: '/d' }, training: { converseRelations: true } }).training.converseRelations).toBe(true);
    expect(runConfigSchema.safeParse({ dataset: { path: '/d' }, training: { converseRelations: 'yes' } }).success).toBe(false);
  });
});
