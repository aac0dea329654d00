/**
 * The images a run left out because they could not be decoded, kept with
 * the run: the full list in `<runDir>/skipped-images.json`, recorded as an
 * artifact of kind `skipped-images` whose meta holds the count and the first
 * few (what the dashboard and `captioner runs show` display).
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ArtifactRecord, JsonObject } from '../../shared/storeTypes';
import type { SkippedImage } from '../../shared/trainingTypes';
import type { ExperimentStore } from '../store/storage';

export const SKIPPED_IMAGES_KIND = 'skipped-images';
/** Images listed in the artifact's meta; the file has them all. */
const LISTED = 100;

export interface SkippedImagesMeta {
  count: number;
  images: SkippedImage[];
}

export async function recordSkippedImages(store: Pick<ExperimentStore, 'artifacts' | 'runs'>, runId: number, images: readonly SkippedImage[]): Promise<void> {
  if (images.length === 0) return;
  const file = join(await store.runs.directory(runId), 'skipped-images.json');
  await writeFile(file, `${JSON.stringify(images, null, 1)}\n`);
  const meta: SkippedImagesMeta = { count: images.length, images: images.slice(0, LISTED) };
  await store.artifacts.add({ runId, kind: SKIPPED_IMAGES_KIND, name: 'Skipped images', path: file, meta: meta as unknown as JsonObject });
}

/** The skipped images a run recorded (the newest record, after a resume), from its artifacts. */
export function skippedImagesOf(artifacts: readonly ArtifactRecord[]): SkippedImagesMeta | null {
  const record = artifacts.filter((artifact) => artifact.kind === SKIPPED_IMAGES_KIND).at(-1);
  return record ? (record.meta as unknown as SkippedImagesMeta) : null;
}
