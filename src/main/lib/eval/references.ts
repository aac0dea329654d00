/**
 * Reference captions for scoring, from the two files evaluation servers and
 * papers use: COCO annotations JSON (`{"images": [...], "annotations":
 * [{"image_id", "caption"}]}`) and the Karpathy split JSON (`{"images":
 * [{"cocoid"?, "imgid", "filename", "split", "sentences": [{"raw"}]}]}`).
 *
 * This reads only what scoring needs (ids, file names, raw captions) and
 * never touches image files, so a results file can be scored without the
 * images. Captions stay raw: they are tokenized with the candidates, by the
 * same function.
 */
import { basename, extname } from 'node:path';
import { JsonCursor, readJsonFile } from './jsonInput';

export type ReferenceFormat = 'coco' | 'karpathy';

export interface ReferenceImage {
  /** The id results use: COCO's `id`/`image_id`; Karpathy's `cocoid`, else `imgid`. */
  imageId: string;
  fileName: string | null;
  split: string | null;
  captions: string[];
}

export class ReferenceSet {
  private readonly byId = new Map<string, ReferenceImage>();
  private readonly byName = new Map<string, ReferenceImage>();

  constructor(
    readonly file: string,
    readonly format: ReferenceFormat,
    readonly images: readonly ReferenceImage[],
  ) {
    for (const image of images) {
      this.byId.set(image.imageId, image);
      if (image.fileName) {
        this.byName.set(image.fileName, image);
        this.byName.set(basename(image.fileName, extname(image.fileName)), image);
      }
    }
  }

  /**
   * Finds an image by its id, or by its file name with or without extension;
   * a path (`val2014/COCO_val2014_000000000042.jpg`, as the workbench's
   * datasets name images) matches by its file name.
   */
  lookup(imageId: string): ReferenceImage | undefined {
    const name = imageId.split(/[\\/]/).pop() ?? imageId;
    return (
      this.byId.get(imageId) ??
      this.byName.get(imageId) ??
      this.byName.get(name) ??
      this.byName.get(basename(name, extname(name)))
    );
  }
}

export function readReferences(file: string): ReferenceSet {
  return parseReferences(file, readJsonFile(file));
}

export function parseReferences(file: string, json: unknown): ReferenceSet {
  const root = JsonCursor.root(file, json);
  if (!root.isObject()) root.fail('expected COCO annotations ({"annotations": [...]}) or a Karpathy split JSON ({"images": [...]}).');
  if (root.has('annotations')) return new ReferenceSet(file, 'coco', parseCoco(root));
  if (root.has('images')) return new ReferenceSet(file, 'karpathy', parseKarpathy(root));
  return root.fail('neither "annotations" (COCO annotations) nor "images" with "sentences" (Karpathy split JSON) is present.');
}

function parseCoco(root: JsonCursor): ReferenceImage[] {
  const images = new Map<string, ReferenceImage>();
  if (root.has('images')) {
    for (const entry of root.field('images').items()) {
      const imageId = entry.field('id').id();
      const name = entry.field('file_name', true);
      images.set(imageId, {
        imageId,
        fileName: name.value === undefined ? null : name.string(),
        split: null,
        captions: [],
      });
    }
  }
  for (const annotation of root.field('annotations').items()) {
    const imageId = annotation.field('image_id').id();
    const caption = annotation.field('caption').string();
    let image = images.get(imageId);
    if (!image) {
      // Some tools write annotations without an "images" list; the ids alone are enough to score.
      image = { imageId, fileName: null, split: null, captions: [] };
      images.set(imageId, image);
    }
    image.captions.push(caption);
  }
  return [...images.values()].filter((image) => image.captions.length > 0);
}

function parseKarpathy(root: JsonCursor): ReferenceImage[] {
  const seen = new Map<string, string>();
  return root
    .field('images')
    .items()
    .map((entry) => {
      const cocoId = entry.field('cocoid', true);
      const imgId = entry.field('imgid', true);
      const fileName = entry.has('filename') ? entry.field('filename').string() : null;
      const imageId =
        cocoId.value !== undefined ? cocoId.id() : imgId.value !== undefined ? imgId.id() : fileName ?? entry.fail('has none of "cocoid", "imgid" or "filename".');
      const previous = seen.get(imageId);
      if (previous) entry.fail(`image id ${imageId} was already used by ${previous}.`);
      seen.set(imageId, entry.path);
      const split = entry.has('split') ? entry.field('split').string() : null;
      const captions = entry
        .field('sentences')
        .items()
        .map((sentence) => sentence.field('raw').string());
      return { imageId, fileName, split, captions };
    });
}
