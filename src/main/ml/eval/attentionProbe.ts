/**
 * Where the attention looks when the decoder chooses the second object of
 * a relation. Every reference caption of a split is fed to the decoder word
 * by word (teacher forcing); at each relation between two mentions that name
 * one pair of objects ("a red box to the left of a small blue star"), the
 * step whose output begins describing the second object ("small", read after
 * "a") is where the decoder must find it, and the probe reads how much of the
 * attention's weight lies on the cells of the second object, of the first,
 * and of any object (objectCells.ts). A model whose attention lies on the
 * background there reads the objects only through what the encoder put into
 * empty cells; used by `npm run bench -- shapes-attention`.
 */
import { objectCells } from '../../lib/data/shapes/objectCells';
import { parseMentions, statedRelation } from '../../lib/data/shapes/grounded';
import type { InferenceModel } from '../captioning/model';
import { shapesBatches, teacherForce, type ForcedRow } from './shapesTeacherForcing';

const ARTICLES = new Set(['a', 'an', 'the']);

export interface AttentionProbeResult {
  /** Relations probed: those of the references whose two mentions name one pair of objects. */
  items: number;
  /** Mean attention weight on the cells of the second object, of the first, and of any object of the scene. */
  onSecond: number;
  onFirst: number;
  onObjects: number;
}

/** A relation of one caption: the step probed and the indices of its two objects in the scene. */
interface Probed extends ForcedRow {
  step: number;
  pair: readonly [number, number];
}

/** Probes `model` (an attention decoder over a square grid) on the references of `split` of the `captioner synth` folder `datasetDir`. */
export async function probeAttention(model: InferenceModel, datasetDir: string, split = 'test'): Promise<AttentionProbeResult> {
  const sums = { items: 0, onSecond: 0, onFirst: 0, onObjects: 0 };
  for await (const batch of shapesBatches(model, datasetDir, split)) {
    const pending: Probed[] = [];
    batch.images.forEach(({ scene, captions }, image) => {
      for (const tokens of captions) {
        const words = tokens.slice(0, -1);
        const mentions = parseMentions(words);
        mentions.forEach((a, m) => {
          const b = mentions[m + 1];
          if (!b) return;
          const stated = statedRelation(scene.objects, words, a, b);
          if (!stated || stated.pairs.length !== 1) return;
          const [first, second] = stated.pairs[0]!;
          const step = ARTICLES.has(words[b.start]!) ? b.start + 1 : b.start;
          if (step >= words.length) return;
          pending.push({ image, tokens, step, pair: [scene.objects.indexOf(first), scene.objects.indexOf(second)] });
        });
      }
    });
    if (pending.length === 0) continue;
    const { attention, steps, regions } = teacherForce(model, batch.pixels, batch.images.length, pending);
    if (!attention) throw new Error('The attention probe needs an attention decoder.');
    const side = Math.round(Math.sqrt(regions));
    if (side * side !== regions) throw new Error(`The attention probe needs a square grid (got ${regions} regions).`);
    pending.forEach((row, r) => {
      const scene = batch.images[row.image]!.scene;
      const cellsOf = (index: number) => objectCells(scene, scene.objects[index]!, side);
      const at = (r * steps + row.step) * regions;
      const weightOn = (cells: number[]) => cells.reduce((sum, cell) => sum + attention[at + cell]!, 0);
      sums.items += 1;
      sums.onSecond += weightOn(cellsOf(row.pair[1]));
      sums.onFirst += weightOn(cellsOf(row.pair[0]));
      sums.onObjects += weightOn([...new Set(scene.objects.flatMap((_, k) => cellsOf(k)))]);
    });
  }
  const mean = (total: number) => (sums.items ? total / sums.items : 0);
  return { items: sums.items, onSecond: mean(sums.onSecond), onFirst: mean(sums.onFirst), onObjects: mean(sums.onObjects) };
}
