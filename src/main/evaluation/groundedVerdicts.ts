/**
 * Per-image grounded verdicts for the gallery: each generated caption's
 * claims checked against its Shapes scene with the datasets' grounded
 * scorer, so the gallery can highlight the wrong ones. Evaluations store
 * only the aggregate; the verdicts are recomputed from scenes.json, which is
 * cheap and always agrees with the scorer of the running version.
 */
import { statSync } from 'node:fs';
import { basename } from 'node:path';
import type { GroundedClaim, GroundedVerdict, VerdictSegment } from '../../shared/galleryTypes';
import { tokenizeCaption } from '../lib/data/text/tokenize';
import { groundCaption, loadScenes, sceneIndex } from '../lib/data/shapes/grounded';
import type { Scene } from '../lib/data/shapes/scene';

let cached: { file: string; stamp: number; scenes: Map<string, Scene> } | null = null;

/** The scenes of a scenes.json by image file name; the last file read stays cached. */
export async function scenesOf(file: string): Promise<Map<string, Scene>> {
  const stamp = statSync(file).mtimeMs;
  if (cached && cached.file === file && cached.stamp === stamp) return cached.scenes;
  const scenes = sceneIndex(await loadScenes(file));
  cached = { file, stamp, scenes };
  return scenes;
}

/** The verdict on one caption; null when the image has no scene. */
export function verdictOf(scenes: Map<string, Scene>, imagePath: string, caption: string): GroundedVerdict | null {
  const scene = scenes.get(basename(imagePath));
  if (!scene) return null;
  const { claims } = groundCaption(scene, caption);
  const correct = claims.filter((claim) => claim.correct).length;
  const wrong = claims.length - correct;
  const plain = claims.map((claim) => ({ attribute: claim.attribute, text: claim.text, correct: claim.correct }));
  return {
    claims: plain,
    segments: segmentsOf(caption, plain),
    correct,
    wrong,
    errorTypes: [...new Set(claims.filter((claim) => !claim.correct).map((claim) => claim.attribute))],
    precision: claims.length > 0 ? correct / claims.length : null,
  };
}

/** The caption's words (as the scorer tokenizes them) grouped into runs with the same marks. */
export function segmentsOf(caption: string, claims: readonly GroundedClaim[]): VerdictSegment[] {
  const tokens = tokenizeCaption(caption);
  const marks = tokens.map(() => ({ wrong: new Set<string>(), right: false }));
  // Claims come in caption order; one mention gives one claim per attribute with the same text (its
  // shape, colour, size ...), so a repeated attribute for the same text is a repeated mention ("a blue
  // star and a blue star"), which has its own, later span.
  const lastStart = new Map<string, number>();
  let previous: { text: string; start: number; attributes: Set<string> } | null = null;
  for (const claim of claims) {
    const words = claim.text.split(' ');
    const sameMention = previous !== null && previous.text === claim.text && !previous.attributes.has(claim.attribute);
    const start: number = sameMention ? previous!.start : findSpan(tokens, words, (lastStart.get(claim.text) ?? -1) + 1);
    if (sameMention) previous!.attributes.add(claim.attribute);
    else previous = { text: claim.text, start, attributes: new Set([claim.attribute]) };
    if (start < 0) continue;
    lastStart.set(claim.text, start);
    for (let i = start; i < start + words.length; i++) {
      if (claim.correct) marks[i]!.right = true;
      else marks[i]!.wrong.add(claim.attribute);
    }
  }
  const segments: VerdictSegment[] = [];
  tokens.forEach((token, i) => {
    const mark = marks[i]!;
    const status = mark.wrong.size > 0 ? 'wrong' : mark.right ? 'right' : 'none';
    const attributes = [...mark.wrong].sort();
    const last = segments[segments.length - 1];
    if (last && last.status === status && last.attributes.join() === attributes.join()) last.text += ` ${token}`;
    else segments.push({ text: token, status, attributes });
  });
  return segments;
}

function findSpan(tokens: readonly string[], words: readonly string[], from: number): number {
  for (let start = from; start + words.length <= tokens.length; start++) {
    if (words.every((word, i) => tokens[start + i] === word)) return start;
  }
  return -1;
}
