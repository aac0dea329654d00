/**
 * The horizontal flip applied to training batches (`training.horizontalFlip`):
 * half the rows of a batch, drawn from (seed, global step) so a resumed run
 * flips exactly as an uninterrupted one, get their image mirrored by the
 * feature source and the side words of their caption swapped ("left of"
 * becomes "right of"), so every flipped pair still tells the truth. When rows
 * share images (`HostBatch.distinct`), the draw is per image and all of an
 * image's rows follow it, since they share one encoder pass.
 */
import { drawFlips } from '../../lib/data/images/augment';
import { createRng } from '../../lib/data/random';
import { mirrorIdMap, mirrorIds } from '../../lib/data/text/mirror';
import type { Vocabulary } from '../../lib/data/text/vocabulary';
import { deriveSeed } from '../model/rng';
import type { HostBatch } from './batches';

const FLIP_PROBABILITY = 0.5;

export class HorizontalFlip {
  private readonly map: Int32Array;

  constructor(
    vocabulary: Vocabulary,
    private readonly seed: number,
  ) {
    this.map = mirrorIdMap(vocabulary);
  }

  /** The batch with flips drawn for `globalStep` and the flipped rows' caption ids mirrored. */
  apply(batch: HostBatch, globalStep: number): HostBatch {
    // One draw per encoder pass: per distinct image when rows share images, else per row.
    const drawn = drawFlips(batch.distinct?.images.length ?? batch.rows, { flipProbability: FLIP_PROBABILITY }, createRng(deriveSeed(this.seed, 'flip', globalStep)));
    const flips = batch.distinct ? batch.distinct.rowOf.map((index) => drawn[index]!) : drawn;
    const inputs = batch.inputs.slice();
    const targets = batch.targets.slice();
    flips.forEach((flip, row) => {
      if (!flip) return;
      const span = [row * batch.steps, (row + 1) * batch.steps] as const;
      inputs.set(mirrorIds(batch.inputs.subarray(...span), this.map), span[0]);
      targets.set(mirrorIds(batch.targets.subarray(...span), this.map), span[0]);
    });
    return { ...batch, inputs, targets, flips, ...(batch.distinct ? { distinct: { ...batch.distinct, flips: drawn } } : {}) };
  }
}
