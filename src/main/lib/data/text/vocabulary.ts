/**
 * The word ↔ id table a decoder is trained with. Ids 0..3 are fixed special
 * tokens, so every model and every saved vocabulary agree on them; words
 * follow by descending count, ties broken by code-point order, so the same
 * captions always give the same ids.
 */
import { readFileSync, writeFileSync } from 'node:fs';

export const PAD = '<pad>';
export const START = '<start>';
export const END = '<end>';
export const UNK = '<unk>';
export const SPECIAL_TOKENS = [PAD, START, END, UNK] as const;
export const PAD_ID = 0;
export const START_ID = 1;
export const END_ID = 2;
export const UNK_ID = 3;

export interface VocabularyOptions {
  /** Words seen fewer times than this map to `<unk>`. */
  minCount: number;
  /** Largest vocabulary, special tokens included; the rarest words are cut first. */
  maxSize: number;
}

export const DEFAULT_VOCABULARY_OPTIONS: VocabularyOptions = { minCount: 5, maxSize: 10_000 };

/** The saved form. `counts[i]` is the training count of `tokens[i]` (0 for special tokens). */
export interface VocabularyJson {
  format: 'captioner-vocabulary';
  version: 1;
  minCount: number;
  maxSize: number;
  tokens: string[];
  counts: number[];
}

export class VocabularyError extends Error {
  override name = 'VocabularyError';
}

export class Vocabulary {
  private readonly ids: Map<string, number>;

  private constructor(
    readonly tokens: readonly string[],
    readonly counts: readonly number[],
    readonly options: VocabularyOptions,
  ) {
    this.ids = new Map(tokens.map((token, id) => [token, id]));
  }

  /** Counts words over tokenized captions (normally the training split only) and keeps the frequent ones. */
  static build(captions: Iterable<readonly string[]>, options: Partial<VocabularyOptions> = {}): Vocabulary {
    const full = { ...DEFAULT_VOCABULARY_OPTIONS, ...options };
    if (!Number.isInteger(full.minCount) || full.minCount < 1) throw new VocabularyError(`minCount must be an integer ≥ 1 (got ${full.minCount}).`);
    if (!Number.isInteger(full.maxSize) || full.maxSize < SPECIAL_TOKENS.length + 1) {
      throw new VocabularyError(`maxSize must be an integer ≥ ${SPECIAL_TOKENS.length + 1} (got ${full.maxSize}).`);
    }
    const counts = countWords(captions);
    const kept = [...counts]
      .filter(([word, count]) => count >= full.minCount && !SPECIAL_TOKENS.includes(word as (typeof SPECIAL_TOKENS)[number]))
      .sort(byCountThenWord)
      .slice(0, full.maxSize - SPECIAL_TOKENS.length);
    return new Vocabulary(
      [...SPECIAL_TOKENS, ...kept.map(([word]) => word)],
      [...SPECIAL_TOKENS.map(() => 0), ...kept.map(([, count]) => count)],
      full,
    );
  }

  /** Rebuilds a saved vocabulary; errors name the offending field. */
  static fromJson(value: unknown, source = 'vocabulary'): Vocabulary {
    const fail = (path: string, message: string): never => {
      throw new VocabularyError(`${source}: ${path}: ${message}`);
    };
    if (typeof value !== 'object' || value === null) return fail('$', 'expected an object');
    const json = value as Partial<VocabularyJson>;
    if (json.format !== 'captioner-vocabulary') fail('$.format', `expected "captioner-vocabulary" (got ${JSON.stringify(json.format)})`);
    if (json.version !== 1) fail('$.version', `unsupported version ${JSON.stringify(json.version)}`);
    if (!Array.isArray(json.tokens)) return fail('$.tokens', 'expected an array of strings');
    if (!Array.isArray(json.counts) || json.counts.length !== json.tokens.length) {
      return fail('$.counts', 'expected an array of numbers as long as $.tokens');
    }
    SPECIAL_TOKENS.forEach((token, id) => {
      if (json.tokens?.[id] !== token) fail(`$.tokens[${id}]`, `expected "${token}"`);
    });
    const seen = new Set<string>();
    json.tokens.forEach((token, i) => {
      if (typeof token !== 'string' || token.length === 0) fail(`$.tokens[${i}]`, 'expected a non-empty string');
      if (seen.has(token)) fail(`$.tokens[${i}]`, `duplicate token "${token}"`);
      seen.add(token);
      const count = json.counts?.[i];
      if (typeof count !== 'number' || !Number.isInteger(count) || count < 0) fail(`$.counts[${i}]`, 'expected an integer ≥ 0');
    });
    const minCount = typeof json.minCount === 'number' ? json.minCount : fail('$.minCount', 'expected a number');
    const maxSize = typeof json.maxSize === 'number' ? json.maxSize : fail('$.maxSize', 'expected a number');
    return new Vocabulary(json.tokens, json.counts, { minCount, maxSize });
  }

  static load(path: string): Vocabulary {
    let parsed: unknown;
    try {
      parsed = JSON.parse(readFileSync(path, 'utf8'));
    } catch (error) {
      throw new VocabularyError(`${path}: cannot read vocabulary: ${(error as Error).message}`);
    }
    return Vocabulary.fromJson(parsed, path);
  }

  get size(): number {
    return this.tokens.length;
  }

  /** The id of a word; unknown words are `<unk>`. */
  id(token: string): number {
    return this.ids.get(token) ?? UNK_ID;
  }

  has(token: string): boolean {
    return this.ids.has(token);
  }

  /** The ids of `tokens`, or null when one of them is not in the vocabulary: what a rewrite may say only if every word can be said. */
  knownIds(tokens: readonly string[]): number[] | null {
    return tokens.every((token) => this.has(token)) ? tokens.map((token) => this.id(token)) : null;
  }

  token(id: number): string {
    const token = this.tokens[id];
    if (token === undefined) throw new VocabularyError(`Token id ${id} is outside the vocabulary (size ${this.size}).`);
    return token;
  }

  /** Words for ids, stopping at `<end>` and skipping `<start>` and `<pad>`: what a decoder's output reads as. */
  decode(ids: Iterable<number>): string[] {
    const words: string[] = [];
    for (const id of ids) {
      if (id === END_ID) break;
      if (id === START_ID || id === PAD_ID) continue;
      words.push(this.token(id));
    }
    return words;
  }

  toJson(): VocabularyJson {
    return {
      format: 'captioner-vocabulary',
      version: 1,
      minCount: this.options.minCount,
      maxSize: this.options.maxSize,
      tokens: [...this.tokens],
      counts: [...this.counts],
    };
  }

  save(path: string): void {
    writeFileSync(path, `${JSON.stringify(this.toJson())}\n`);
  }
}

export function countWords(captions: Iterable<readonly string[]>): Map<string, number> {
  const counts = new Map<string, number>();
  for (const tokens of captions) for (const token of tokens) counts.set(token, (counts.get(token) ?? 0) + 1);
  return counts;
}

/** Descending count, then code-point order: locale-independent, so ids never depend on the machine. */
export function byCountThenWord(a: [string, number], b: [string, number]): number {
  if (a[1] !== b[1]) return b[1] - a[1];
  return a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0;
}
