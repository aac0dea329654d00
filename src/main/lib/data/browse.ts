/**
 * Paging through a read dataset for the UI: filter by split and by words,
 * then a page of images. Words are compared after tokenization (so "Dogs,"
 * finds "dogs"); every search word must appear in one caption of the image,
 * the last one as a prefix (search as you type). Captions are tokenized on
 * the first search and kept, so later searches over COCO-sized sets stay fast.
 */
import type { BrowseItem } from '../../../shared/datasetsTypes';
import type { CaptionDataset, DatasetImage, SplitName } from './readers/types';
import { tokenizeCaption } from './text/tokenize';
import { mapYielding } from './yielding';

export interface BrowseQuery {
  offset: number;
  limit: number;
  search?: string;
  /** A split, or `none` for images without one. */
  split?: SplitName | 'none';
}

export function toItem(image: DatasetImage): BrowseItem {
  return { imageId: image.id, path: image.file, split: image.split, captions: image.captions };
}

export class DatasetIndex {
  private tokens: string[][][] | null = null;
  private readonly byId: Map<string, DatasetImage>;

  constructor(readonly dataset: CaptionDataset) {
    this.byId = new Map(dataset.images.map((image) => [image.id, image]));
  }

  image(id: string): DatasetImage | undefined {
    return this.byId.get(id);
  }

  async browse(query: BrowseQuery): Promise<{ total: number; items: BrowseItem[] }> {
    const words = query.search ? tokenizeCaption(query.search) : [];
    const tokens = words.length ? await this.captionTokens() : null;
    const matches = this.dataset.images.filter((image, i) => {
      if (query.split && (query.split === 'none' ? image.split !== null : image.split !== query.split)) return false;
      return !tokens || matchesWords(tokens[i] as string[][], words);
    });
    return { total: matches.length, items: matches.slice(query.offset, query.offset + query.limit).map(toItem) };
  }

  private async captionTokens(): Promise<string[][][]> {
    this.tokens ??= await mapYielding(this.dataset.images, (image) => image.captions.map(tokenizeCaption), 500);
    return this.tokens;
  }
}

function matchesWords(captions: string[][], words: string[]): boolean {
  return captions.some((tokens) => words.every((word, i) => (i === words.length - 1 ? tokens.some((t) => t.startsWith(word)) : tokens.includes(word))));
}
