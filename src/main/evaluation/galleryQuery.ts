/**
 * Sorting and filtering the gallery's items: by any per-image score (items
 * without that score last, whichever the direction), by a word of the
 * generated or reference captions, by split and by grounded error type.
 */
import type { GalleryItem, GalleryQuery } from '../../shared/galleryTypes';
import { GROUNDED_ANY_ERROR, GROUNDED_NO_ERROR } from '../../shared/galleryTypes';
import { ApiError } from '../../shared/errors';
import { tokenizeForMetrics } from '../lib/eval/tokenization';

/** Score keys present in the items, in a stable order (the metrics first). */
export function sortKeysOf(items: readonly GalleryItem[]): string[] {
  const preferred = ['ciderD', 'bleu4', 'bleu3', 'bleu2', 'bleu1', 'rougeL', 'grounded'];
  const keys = new Set<string>();
  for (const item of items) for (const key of Object.keys(item.scores)) keys.add(key);
  return [...preferred.filter((key) => keys.has(key)), ...[...keys].filter((key) => !preferred.includes(key)).sort()];
}

function wordsOf(text: string): Set<string> {
  return new Set(tokenizeForMetrics(text).split(' ').filter(Boolean));
}

function matchesWord(item: GalleryItem, word: string, where: GalleryQuery['wordIn']): boolean {
  const inGenerated = () => wordsOf(item.caption).has(word);
  const inReferences = () => item.references.some((reference) => wordsOf(reference).has(word));
  if (where === 'generated') return inGenerated();
  if (where === 'references') return inReferences();
  return inGenerated() || inReferences();
}

function matchesGrounded(item: GalleryItem, error: string): boolean {
  if (!item.grounded) return false;
  if (error === GROUNDED_ANY_ERROR) return item.grounded.wrong > 0;
  if (error === GROUNDED_NO_ERROR) return item.grounded.wrong === 0;
  return item.grounded.errorTypes.includes(error);
}

export function queryItems(items: readonly GalleryItem[], query: Omit<GalleryQuery, 'evaluationIds'>): GalleryItem[] {
  const keys = sortKeysOf(items);
  if (items.length > 0 && !keys.includes(query.sort)) {
    throw new ApiError('invalid_request', `sort: "${query.sort}" is not a score of these images (one of: ${keys.join(', ')}).`);
  }
  // The word is tokenized like the captions, so "Circles," finds "circles".
  const word = query.word ? tokenizeForMetrics(query.word).split(' ')[0] ?? '' : '';
  const filtered = items.filter(
    (item) =>
      (!word || matchesWord(item, word, query.wordIn)) &&
      (!query.split || item.split === query.split) &&
      (!query.groundedError || matchesGrounded(item, query.groundedError)),
  );
  const sign = query.direction === 'asc' ? 1 : -1;
  return filtered.sort((a, b) => {
    const x = a.scores[query.sort];
    const y = b.scores[query.sort];
    if (x === undefined || y === undefined) return x === y ? tieBreak(a, b) : x === undefined ? 1 : -1;
    return x !== y ? sign * (x - y) : tieBreak(a, b);
  });
}

function tieBreak(a: GalleryItem, b: GalleryItem): number {
  return a.evaluationId - b.evaluationId || (a.imageId < b.imageId ? -1 : a.imageId > b.imageId ? 1 : 0);
}
