/**
 * Candidate captions in the COCO results format: `[{"image_id": 42,
 * "caption": "a dog"}, ...]`, one caption per image, as the COCO evaluation
 * server and coco-caption expect (a second caption for an image is an error
 * there too).
 */
import { JsonCursor, readJsonFile } from './jsonInput';

export interface ResultCaption {
  imageId: string;
  caption: string;
  /** Where it is in the file, for error messages: `$[12]`. */
  jsonPath: string;
}

export function readResults(file: string): ResultCaption[] {
  return parseResults(file, readJsonFile(file));
}

export function parseResults(file: string, json: unknown): ResultCaption[] {
  const root = JsonCursor.root(file, json);
  const entries = root.items();
  if (entries.length === 0) root.fail('the results list is empty: there is nothing to score.');
  const firstPathById = new Map<string, string>();
  return entries.map((entry) => {
    const imageId = entry.field('image_id').id();
    const caption = entry.field('caption').string();
    const first = firstPathById.get(imageId);
    if (first) entry.fail(`a second caption for image ${imageId} (the first is ${first}); results hold one caption per image.`);
    firstPathById.set(imageId, entry.path);
    return { imageId, caption, jsonPath: entry.path };
  });
}

/** The COCO results format for writing: numeric ids stay numbers, so the file is what COCO tools read. */
export function toCocoResults(captions: readonly { imageId: string; caption: string }[]): { image_id: number | string; caption: string }[] {
  return captions.map(({ imageId, caption }) => {
    const numeric = Number(imageId);
    const isInteger = /^(0|[1-9]\d*)$/.test(imageId) && Number.isSafeInteger(numeric);
    return { image_id: isInteger ? numeric : imageId, caption };
  });
}
