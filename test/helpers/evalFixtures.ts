/** Small reference and results files in the formats `captioner score` reads. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export function tempDir(prefix = 'captioner-eval-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export function writeJson(dir: string, name: string, value: unknown): string {
  const file = join(dir, name);
  writeFileSync(file, JSON.stringify(value));
  return file;
}

/** Three images with raw (untokenized) captions: capitals and punctuation the tokenizer removes. */
export const RAW_REFERENCES: Record<string, string[]> = {
  '42': ['A dog runs on the grass.', 'A brown dog, running on grass!', 'The dog is running.'],
  '73': ['Two cats sleep on a sofa.', 'A pair of cats asleep on the couch.'],
  '99': ['A red circle left of a blue square.', 'a small red circle and a blue square'],
};

export function cocoAnnotations(references: Record<string, string[]> = RAW_REFERENCES) {
  let annotationId = 1;
  return {
    info: { description: 'test' },
    images: Object.keys(references).map((id) => ({ id: Number(id), file_name: `COCO_val2014_${id.padStart(12, '0')}.jpg` })),
    annotations: Object.entries(references).flatMap(([id, captions]) =>
      captions.map((caption) => ({ id: annotationId++, image_id: Number(id), caption })),
    ),
  };
}

export function karpathyJson(references: Record<string, string[]> = RAW_REFERENCES, split = 'test') {
  return {
    dataset: 'coco',
    images: Object.entries(references).map(([id, captions], index) => ({
      filepath: 'val2014',
      filename: `COCO_val2014_${id.padStart(12, '0')}.jpg`,
      imgid: index,
      cocoid: Number(id),
      split,
      sentences: captions.map((raw, sentid) => ({ raw, tokens: raw.toLowerCase().split(' '), sentid })),
    })),
  };
}

export const RAW_RESULTS = [
  { image_id: 42, caption: 'A dog running on the grass.' },
  { image_id: 73, caption: 'Two cats on a couch!' },
  { image_id: 99, caption: 'A red circle and a blue square' },
];
