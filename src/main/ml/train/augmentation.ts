/**
 * The flips applied to training batches (`training.horizontalFlip`,
 * `training.verticalFlip`): half the rows of a batch, drawn from (seed, axis,
 * global step) so a resumed run flips exactly as an uninterrupted one, get
 * their image mirrored by the feature source and the side words of their
 * caption swapped ("left of" becomes "right of", "above" becomes "below"),
 * so every flipped pair still tells the truth. When rows share images
 * (`HostBatch.distinct`), the draw is per image and all of an image's rows
 * follow it, since they share one encoder pass. The two flips draw apart and
 * compose: a row may be mirrored both ways.
 */
import { drawFlips } from '../../lib/data/images/augment';
import { createRng } from '../../lib/data/random';
import { mirrorIdMap, mirrorIds, type MirrorAxis } from '../../lib/data/text/mirror';
import type { Vocabulary } from '../../lib/data/text/vocabulary';
import { deriveSeed } from '../model/rng';
import type { HostBatch } from './batches';

const FLIP_PROBABILITY = 0.5;

/** Where each axis keeps its draws on the batch, and the label its random stream is derived by. */
const AXES: Record<MirrorAxis, { field: 'flips' | 'verticalFlips'; stream: string }> = {
  // 'flip' predates the vertical flip: keeping it keeps older runs' draws.
  horizontal: { field: 'flips', stream: 'flip' },
  vertical: { field: 'verticalFlips', stream: 'vflip' },
};

export class Flip {
  private readonly map: Int32Array;

  constructor(
    vocabulary: Vocabulary,
    private readonly seed: number,
    private readonly axis: MirrorAxis,
  ) {
    this.map = mirrorIdMap(vocabulary, axis);
  }

  /** The batch with this axis's flips drawn for `globalStep` and the flipped rows' caption ids mirrored. */
  apply(batch: HostBatch, globalStep: number): HostBatch {
    const { field, stream } = AXES[this.axis];
    // One draw per encoder pass: per distinct image when rows share images, else per row.
    const drawn = drawFlips(batch.distinct?.images.length ?? batch.rows, { flipProbability: FLIP_PROBABILITY }, createRng(deriveSeed(this.seed, stream, globalStep)));
    const flips = batch.distinct ? batch.distinct.rowOf.map((index) => drawn[index]!) : drawn;
    const inputs = batch.inputs.slice();
    const targets = batch.targets.slice();
    flips.forEach((flip, row) => {
      if (!flip) return;
      const span = [row * batch.steps, (row + 1) * batch.steps] as const;
      inputs.set(mirrorIds(batch.inputs.subarray(...span), this.map), span[0]);
      targets.set(mirrorIds(batch.targets.subarray(...span), this.map), span[0]);
    });
    return { ...batch, inputs, targets, [field]: flips, ...(batch.distinct ? { distinct: { ...batch.distinct, [field]: drawn } } : {}) };
  }
}
