/** The field names generic CSV and JSONL files use for the image, the caption and the split. */

export const IMAGE_FIELDS = ['image', 'image_path', 'imagepath', 'image_file', 'image_name', 'img', 'file', 'filename', 'file_name', 'path', 'filepath'];
export const CAPTION_FIELDS = ['caption', 'captions', 'text', 'sentence', 'description', 'comment', 'label'];
export const SPLIT_FIELDS = ['split', 'subset', 'set'];

export function findField(names: readonly string[], candidates: readonly string[]): number {
  const normalized = names.map((name) => name.trim().toLowerCase());
  for (const candidate of candidates) {
    const index = normalized.indexOf(candidate);
    if (index >= 0) return index;
  }
  return -1;
}

/** `train`, `val`, `test` and their common spellings; null for blank; undefined for anything else. */
export function parseSplit(value: string): 'train' | 'val' | 'test' | null | undefined {
  const v = value.trim().toLowerCase();
  if (v === '') return null;
  if (v === 'train' || v === 'training' || v === 'restval') return 'train';
  if (v === 'val' || v === 'valid' || v === 'validation' || v === 'dev') return 'val';
  if (v === 'test' || v === 'testing') return 'test';
  return undefined;
}
