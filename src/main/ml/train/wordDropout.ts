/**
 * Word dropout (`training.wordDropout`): while training, each input word of
 * a caption (the words the decoder reads, never its <start>) becomes <unk>
 * with probability p, while the targets stay. A decoder that cannot always
 * read what it has said must take more of the next word from the image,
 * the aim being fewer captions that name an object with the words of the
 * one named before it. On Shapes it helped one synthesis seed of three and
 * hurt the others (docs/shapes-benchmark.md), so no preset uses it.
 * The draw comes from (seed, global step), so a resumed run drops exactly
 * the words an uninterrupted one would.
 */
import { createRng } from '../../lib/data/random';
import { UNK_ID } from '../../lib/data/text/vocabulary';
import { deriveSeed } from '../model/rng';
import type { HostBatch } from './batches';

export class WordDropout {
  constructor(
    private readonly probability: number,
    private readonly seed: number,
  ) {
    if (!(probability > 0 && probability < 1)) throw new RangeError(`word dropout: probability ${probability} is not in (0, 1)`);
  }

  /** The batch with the inputs of `globalStep`'s draw replaced by <unk>; targets, mask and lengths unchanged. */
  apply(batch: HostBatch, globalStep: number): HostBatch {
    const rng = createRng(deriveSeed(this.seed, 'word-dropout', globalStep));
    const inputs = batch.inputs.slice();
    for (let row = 0; row < batch.rows; row++) {
      // Position 0 holds <start>: every caption begins from it, with nothing to hide.
      for (let t = 1; t < batch.lengths[row]!; t++) {
        if (rng.chance(this.probability)) inputs[row * batch.steps + t] = UNK_ID;
      }
    }
    return { ...batch, inputs };
  }
}
