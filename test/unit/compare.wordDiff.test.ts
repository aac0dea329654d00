/** Word-level agreement between captions, run grouping and group bands: the pure parts of the compare service. */
import { describe, expect, it } from 'vitest';
import { bandOf, bucketRows } from '../../src/main/compare/bands';
import { groupRuns } from '../../src/main/compare/grouping';
import { compareCaptions, matchedPositions, similarity } from '../../src/main/compare/wordDiff';

const marked = (words: Array<{ text: string; differs: boolean }>) => words.map((word) => (word.differs ? `[${word.text}]` : word.text)).join(' ');

describe('compareCaptions', () => {
  it('marks the words one caption has and the other lacks, ignoring case and punctuation', () => {
    const { words, disagreement } = compareCaptions(['A red circle above a blue square.', 'a green circle above a blue square']);
    expect(marked(words[0]!)).toBe('A [red] circle above a blue square.');
    expect(marked(words[1]!)).toBe('a [green] circle above a blue square');
    // 6 of 7 words shared in order: similarity 12/14.
    expect(disagreement).toBeCloseTo(1 - 12 / 14, 10);
  });

  it('finds nothing to mark in identical captions and everything in captions without a common word', () => {
    expect(compareCaptions(['two dogs run', 'Two dogs run!']).disagreement).toBe(0);
    expect(compareCaptions(['two dogs run', 'Two dogs run!']).words.flat().some((word) => word.differs)).toBe(false);
    const apart = compareCaptions(['a cat', 'three birds']);
    expect(apart.disagreement).toBe(1);
    expect(apart.words.flat().every((word) => word.differs)).toBe(true);
  });

  it('with three captions marks a word missing from any other, and averages the pairs', () => {
    const { words, disagreement } = compareCaptions(['a big red ball', 'a red ball', 'a big ball']);
    expect(marked(words[0]!)).toBe('a [big] [red] ball');
    expect(marked(words[1]!)).toBe('a [red] ball');
    expect(marked(words[2]!)).toBe('a [big] ball');
    const pairs = [similarity(['a', 'big', 'red', 'ball'], ['a', 'red', 'ball']), similarity(['a', 'big', 'red', 'ball'], ['a', 'big', 'ball']), similarity(['a', 'red', 'ball'], ['a', 'big', 'ball'])];
    expect(disagreement).toBeCloseTo(1 - pairs.reduce((a, b) => a + b) / 3, 12);
  });

  it('aligns repeated words in order rather than by membership', () => {
    // Membership would match both of the first caption's "a"s; an alignment matches one.
    const matched = matchedPositions(['a', 'dog', 'a', 'cat'], ['a', 'cat']);
    expect(matched.filter(Boolean)).toHaveLength(2);
    expect(matched[3]).toBe(true);
    expect(Number(matched[0]) + Number(matched[2])).toBe(1);
    expect(similarity([], [])).toBe(1);
    expect(compareCaptions(['only one']).disagreement).toBe(0);
  });
});

describe('groupRuns', () => {
  const runs = [
    { id: 1, config: { name: 'a', seed: 1, decoder: { units: 128 } } },
    { id: 2, config: { name: 'b', seed: 2, decoder: { units: 128 } } },
    { id: 3, config: { name: 'c', seed: 1, decoder: { units: 256 } } },
    { id: 4, config: { name: 'd', seed: 2, decoder: { units: 256 } } },
    { id: 5, config: { name: 'e', seed: 3, decoder: { units: 256 } } },
  ];

  it('groups replicates: runs whose configs differ only at the ignored paths', () => {
    expect(groupRuns(runs, { by: 'replicates', ignore: ['seed', 'name'] })).toEqual([
      { label: 'decoder.units = 128', runIds: [1, 2] },
      { label: 'decoder.units = 256', runIds: [3, 4, 5] },
    ]);
    // Ignoring only the seed leaves the names apart: every run alone.
    expect(groupRuns(runs, { by: 'replicates', ignore: ['seed'] })).toHaveLength(5);
    // Ignoring a parent path ignores everything below it.
    expect(groupRuns(runs, { by: 'replicates', ignore: ['name', 'decoder'] })).toEqual([
      { label: 'seed = 1', runIds: [1, 3] },
      { label: 'seed = 2', runIds: [2, 4] },
      { label: 'seed = 3', runIds: [5] },
    ]);
  });

  it('groups by the value of one parameter, naming runs without it', () => {
    expect(groupRuns([...runs, { id: 6, config: { name: 'f' } }], { by: 'value', path: 'decoder.units' })).toEqual([
      { label: 'decoder.units = 128', runIds: [1, 2] },
      { label: 'decoder.units = 256', runIds: [3, 4, 5] },
      { label: 'decoder.units = (none)', runIds: [6] },
    ]);
  });

  it('calls a group of identical settings "all runs"', () => {
    expect(groupRuns(runs.slice(0, 2), { by: 'replicates', ignore: ['seed', 'name'] })).toEqual([{ label: 'all runs', runIds: [1, 2] }]);
  });
});

describe('bands', () => {
  it('takes mean, min and max over the runs that have a value at each x, skipping empty x', () => {
    const band = bandOf('g', [1, 2, 3], {
      x: [0, 1, 2, 3],
      values: [
        [1, 2, null, null],
        [3, null, null, null],
        [5, 4, null, 7],
      ],
    });
    expect(band).toEqual({ label: 'g', runIds: [1, 2, 3], x: [0, 1, 3], mean: [3, 3, 7], min: [1, 2, 7], max: [5, 4, 7], n: [3, 2, 1] });
  });

  it('buckets runs measured at unrelated times into equal-width bins of per-run means', () => {
    const rows = bucketRows(
      [
        { x: [0, 1, 9, 10], y: [1, 3, 5, 7] },
        { x: [4, 6], y: [10, 20] },
      ],
      2,
    );
    expect(rows.x).toEqual([2.5, 7.5]);
    expect(rows.values).toEqual([
      [2, 6],
      [10, 20],
    ]);
    expect(bucketRows([{ x: [], y: [] }], 4)).toEqual({ x: [], values: [[]] });
    expect(bucketRows([{ x: [3, 3], y: [1, 2] }], 4)).toEqual({ x: [3], values: [[1.5]] });
  });
});
