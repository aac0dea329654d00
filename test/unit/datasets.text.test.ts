import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createRng } from '../../src/main/lib/data/random';
import type { DatasetImage } from '../../src/main/lib/data/readers';
import { mirrorCaption, mirrorIdMap, mirrorIds, mirrorTokens } from '../../src/main/lib/data/text/mirror';
import { encodeTokens, lengthCovering, sequenceLength } from '../../src/main/lib/data/text/sequence';
import { findSplitLeaks, resolveSplits, seededSplit } from '../../src/main/lib/data/text/splits';
import { canonicalCaption, tokenizeCaption } from '../../src/main/lib/data/text/tokenize';
import { END_ID, PAD_ID, START_ID, UNK_ID, Vocabulary } from '../../src/main/lib/data/text/vocabulary';
import { tempDir } from '../helpers/datasetFixtures';

describe('tokenizeCaption (coco-caption PTB rule)', () => {
  it('lowercases, drops punctuation tokens and splits clitics as PTB does', () => {
    expect(tokenizeCaption('A man\'s dog doesn\'t run, "fast" (really)!')).toEqual(['a', 'man', "'s", 'dog', 'does', "n't", 'run', 'fast', 'really']);
    expect(tokenizeCaption('A child in a pink dress is climbing up a set of stairs in an entry way .')).toEqual(
      'a child in a pink dress is climbing up a set of stairs in an entry way'.split(' '),
    );
  });

  it('keeps hyphenated words, numbers and the symbols coco-caption keeps', () => {
    expect(tokenizeCaption('A t-shirt costs $5 -- 1,000 people; 3.5 stars & 50%...')).toEqual([
      'a', 't-shirt', 'costs', '$', '5', '1,000', 'people', '3.5', 'stars', '&', '50', '%',
    ]);
  });

  it('applies NFKC and typographic quotes', () => {
    expect(tokenizeCaption('Ｔｗｏ ﬁsh’s “fins” – wet')).toEqual(['two', 'fish', "'s", 'fins', 'wet']);
  });

  it('is idempotent on its own output', () => {
    for (const text of ["I'm sure the dog's ball isn't red.", 'Two dogs play in the snow .', 'rock\'n\'roll, baby']) {
      const once = canonicalCaption(text);
      expect(canonicalCaption(once)).toBe(once);
    }
  });
});

describe('Vocabulary', () => {
  const captions = ['a dog runs', 'a dog sleeps', 'a cat runs', 'the cat', 'a bird'].map(tokenizeCaption);

  it('puts the special tokens at 0..3 and orders words by count, then code point', () => {
    const vocab = Vocabulary.build(captions, { minCount: 1, maxSize: 100 });
    expect(vocab.tokens.slice(0, 4)).toEqual(['<pad>', '<start>', '<end>', '<unk>']);
    expect(vocab.tokens.slice(4)).toEqual(['a', 'cat', 'dog', 'runs', 'bird', 'sleeps', 'the']);
    expect([vocab.id('<pad>'), vocab.id('<start>'), vocab.id('<end>'), vocab.id('<unk>')]).toEqual([PAD_ID, START_ID, END_ID, UNK_ID]);
  });

  it('applies minimum count and maximum size', () => {
    expect(Vocabulary.build(captions, { minCount: 2, maxSize: 100 }).tokens.slice(4)).toEqual(['a', 'cat', 'dog', 'runs']);
    const capped = Vocabulary.build(captions, { minCount: 1, maxSize: 6 });
    expect(capped.tokens).toEqual(['<pad>', '<start>', '<end>', '<unk>', 'a', 'cat']);
    expect(capped.id('dog')).toBe(UNK_ID);
  });

  it('saves as JSON and reloads identically', () => {
    const { dir, cleanup } = tempDir();
    try {
      const vocab = Vocabulary.build(captions, { minCount: 1, maxSize: 50 });
      const file = join(dir, 'vocab.json');
      vocab.save(file);
      const loaded = Vocabulary.load(file);
      expect(loaded.toJson()).toEqual(vocab.toJson());
      expect(JSON.stringify(loaded.toJson())).toBe(readFileSync(file, 'utf8').trim());
      for (const token of vocab.tokens) expect(loaded.id(token)).toBe(vocab.id(token));
    } finally {
      cleanup();
    }
  });

  it('rejects a damaged vocabulary naming the field', () => {
    const json = Vocabulary.build(captions, { minCount: 1, maxSize: 50 }).toJson();
    expect(() => Vocabulary.fromJson({ ...json, tokens: ['<start>', ...json.tokens.slice(1)] })).toThrow(/\$\.tokens\[0\]: expected "<pad>"/);
    expect(() => Vocabulary.fromJson({ ...json, tokens: [...json.tokens, 'a'], counts: [...json.counts, 1] })).toThrow(/duplicate token "a"/);
    expect(() => Vocabulary.fromJson({ ...json, counts: json.counts.slice(1) })).toThrow(/\$\.counts/);
  });

  it('decodes up to <end>, skipping <start> and <pad>', () => {
    const vocab = Vocabulary.build(captions, { minCount: 1, maxSize: 50 });
    const ids = encodeTokens(['a', 'dog', 'zebra'], vocab, 5);
    expect(vocab.decode(ids)).toEqual(['a', 'dog', '<unk>']);
  });

  it('gives the ids of words only when it has every one of them', () => {
    const vocab = Vocabulary.build(captions, { minCount: 1, maxSize: 50 });
    expect(vocab.knownIds(['a', 'cat', 'runs'])).toEqual([vocab.id('a'), vocab.id('cat'), vocab.id('runs')]);
    expect(vocab.knownIds(['a', 'zebra'])).toBeNull();
    expect(vocab.knownIds([])).toEqual([]);
  });
});

describe('encodeTokens: truncation rule', () => {
  const vocab = Vocabulary.build([['a', 'b', 'c', 'd']], { minCount: 1, maxSize: 50 });
  it('pads short captions and keeps <end> after truncating long ones', () => {
    expect([...encodeTokens(['a', 'b'], vocab, 4)]).toEqual([START_ID, vocab.id('a'), vocab.id('b'), END_ID, PAD_ID, PAD_ID]);
    expect([...encodeTokens(['a', 'b', 'c', 'd'], vocab, 2)]).toEqual([START_ID, vocab.id('a'), vocab.id('b'), END_ID]);
    expect(encodeTokens(['a'], vocab, 7)).toHaveLength(sequenceLength(7));
  });
  it('picks a length covering a share of captions', () => {
    expect(lengthCovering([3, 5, 7, 9, 30], 0.8)).toBe(9);
    expect(lengthCovering([3, 5, 7, 9, 30], 1)).toBe(30);
  });
});

describe('splits', () => {
  const images: DatasetImage[] = Array.from({ length: 200 }, (_, i) => ({ id: `img${i}.jpg`, file: `/d/img${i}.jpg`, captions: ['x'], split: null }));

  it('is seeded, independent of input order, and exhaustive', () => {
    const a = seededSplit(images, { seed: 7 });
    const b = seededSplit(createRng(1).shuffle(images), { seed: 7 });
    const c = seededSplit(images, { seed: 8 });
    expect(a).toEqual(b);
    expect(a.val.map((i) => i.id)).not.toEqual(c.val.map((i) => i.id));
    expect([a.train.length, a.val.length, a.test.length]).toEqual([160, 20, 20]);
    expect(new Set([...a.train, ...a.val, ...a.test].map((i) => i.id)).size).toBe(200);
  });

  it('never puts one image in two splits', () => {
    for (const seed of [1, 2, 3]) expect(findSplitLeaks(seededSplit(images, { seed, fractions: { train: 0.5, val: 0.25, test: 0.25 } }))).toEqual([]);
  });

  it('detects leaks by id and by file', () => {
    const [first, second] = images as [DatasetImage, DatasetImage];
    expect(findSplitLeaks({ train: [first], val: [first], test: [] })).toHaveLength(2);
    expect(findSplitLeaks({ train: [first], val: [], test: [{ ...second, file: first.file }] })).toEqual([`File ${first.file} is in both train and test.`]);
  });

  it('uses the dataset splits when it has them', () => {
    const withSplits = images.slice(0, 4).map((image, i) => ({ ...image, split: (['train', 'val', 'test', null] as const)[i] ?? null }));
    const resolved = resolveSplits({ images: withSplits, hasSplits: true }, { seed: 1 });
    expect(resolved.source).toBe('dataset');
    expect(resolved.unassigned).toBe(1);
    expect(resolved.splits.val.map((i) => i.id)).toEqual(['img1.jpg']);
  });

  it('gives each split at least one image for tiny datasets', () => {
    const split = seededSplit(images.slice(0, 5), { seed: 3 });
    expect([split.train.length, split.val.length, split.test.length]).toEqual([3, 1, 1]);
  });
});

describe('mirroring captions for flipped images', () => {
  it('swaps left and right in text, tokens and ids', () => {
    expect(mirrorCaption('Left of the box, a ball to the right; leftmost star')).toBe('Right of the box, a ball to the left; rightmost star');
    expect(mirrorTokens(['a', 'circle', 'left', 'of', 'a', 'star'])).toEqual(['a', 'circle', 'right', 'of', 'a', 'star']);
    const vocab = Vocabulary.build([['left', 'right', 'of', 'leftmost']], { minCount: 1, maxSize: 50 });
    const ids = encodeTokens(['left', 'of', 'leftmost'], vocab, 4);
    expect(vocab.decode(mirrorIds(ids, mirrorIdMap(vocab)))).toEqual(['right', 'of', '<unk>']);
  });

  it('swaps above and below, top and bottom, but not left and right, top to bottom', () => {
    expect(mirrorTokens(['a', 'circle', 'above', 'a', 'star', 'at', 'the', 'top', 'left'], 'vertical')).toEqual(['a', 'circle', 'below', 'a', 'star', 'at', 'the', 'bottom', 'left']);
    expect(mirrorTokens(['over', 'under', 'beneath', 'upper'], 'vertical')).toEqual(['under', 'over', 'above', 'lower']);
    const vocab = Vocabulary.build([['above', 'below', 'beneath', 'left', 'top']], { minCount: 1, maxSize: 50 });
    const ids = encodeTokens(['beneath', 'left', 'top'], vocab, 4);
    expect(vocab.decode(mirrorIds(ids, mirrorIdMap(vocab, 'vertical')))).toEqual(['above', 'left', '<unk>']);
  });
});

describe('seeded PRNG', () => {
  it('repeats for a seed and differs between seeds', () => {
    const draw = (seed: number | string) => Array.from({ length: 5 }, createRng(seed).next);
    expect(draw(42)).toEqual(draw(42));
    expect(draw(42)).not.toEqual(draw(43));
    expect(draw('abc')).toEqual(draw('abc'));
    const rng = createRng(5);
    const values = Array.from({ length: 2000 }, () => rng.int(10));
    for (let v = 0; v < 10; v++) expect(values.filter((x) => x === v).length).toBeGreaterThan(120);
  });
  it('forks independently of how much the parent was used', () => {
    const a = createRng(9);
    const b = createRng(9);
    b.next();
    expect(a.fork('x').next()).toBe(b.fork('x').next());
  });
});

