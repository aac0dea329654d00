/**
 * Grounded Shapes accuracy beside the n-gram metrics, when the scene truth is
 * known: a Shapes dataset (from `captioner synth`) keeps `scenes.json` next
 * to its annotations, and the datasets' grounded scorer checks each caption's
 * claims against it.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { GroundedSummary } from '../../../shared/inferenceTypes';
import { loadScenes, sceneIndex, scoreGrounded } from '../data/shapes/grounded';
import { SHAPES_SCENES_FILE } from '../data/shapes/synth';

/** The scenes.json of the dataset an annotations file (or dataset folder) belongs to, if any. */
export function findScenesFile(annotationsOrFolder: string): string | null {
  for (const dir of [annotationsOrFolder, dirname(annotationsOrFolder)]) {
    const candidate = join(dir, SHAPES_SCENES_FILE);
    if (existsSync(candidate)) return candidate;
  }
  return null;
}

/** Scores captions keyed by image file name (or a path ending in it) against the scenes. */
export async function groundedAccuracy(scenesFile: string, captions: Iterable<[string, string]>): Promise<GroundedSummary> {
  const report = scoreGrounded(sceneIndex(await loadScenes(scenesFile)), captions);
  return { scenesFile, ...report };
}
