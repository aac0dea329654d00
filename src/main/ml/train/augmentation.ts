/**
 * The horizontal flip applied to training batches (`training.horizontalFlip`):
 * half the rows of a batch, drawn from (seed, global step) so a resumed run
 * flips exactly as an uninterrupted one, get their image mirrored by the
 * feature source and the side words of their caption swapped ("left of"
 * becomes "right of"), so every flipped pair still tells the truth.
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
    const flips = drawFlips(batch.rows, { flipProbability: FLIP_PROBABILITY }, createRng(deriveSeed(this.seed, 'flip', globalStep)));
    const inputs = batch.inputs.slice();
    const targets = batch.targets.slice();
    flips.forEach((flip, row) => {
      if (!flip) return;
      const span = [row * batch.steps, (row + 1) * batch.steps] as const;
      inputs.set(mirrorIds(batch.inputs.subarray(...span), this.map), span[0]);
      targets.set(mirrorIds(batch.targets.subarray(...span), this.map), span[0]);
    });
    return { ...batch, inputs, targets, flips };
  }
}
