/**
 * Converse relations while training (`training.converseRelations`): half
 * the rows of a batch whose caption is one relation between two things
 * (lib/data/text/converse.ts) are told from the other object ("a box above
 * a cross" becomes "a cross below a box"). The caption keeps its length, so
 * inputs, targets and mask keep their places. Drawn from (seed, global
 * step), so a resumed run rewrites exactly the rows an uninterrupted one
 * would.
 */
import { createRng } from '../../lib/data/random';
import { converseIds } from '../../lib/data/text/converse';
import type { Vocabulary } from '../../lib/data/text/vocabulary';
import { deriveSeed } from '../model/rng';
import type { HostBatch } from './batches';

const CONVERSE_PROBABILITY = 0.5;

export class ConverseRelations {
  constructor(
    private readonly vocabulary: Vocabulary,
    private readonly seed: number,
  ) {}

  /** The batch with `globalStep`'s drawn rows told from their other object, where they can be. */
  apply(batch: HostBatch, globalStep: number): HostBatch {
    const rng = createRng(deriveSeed(this.seed, 'converse', globalStep));
    const inputs = batch.inputs.slice();
    const targets = batch.targets.slice();
    for (let row = 0; row < batch.rows; row++) {
      // Draw for every row, so one row's caption does not change the next row's draw.
      if (!rng.chance(CONVERSE_PROBABILITY)) continue;
      const begin = row * batch.steps;
      // Targets hold the words then <end>: lengths[row] − 1 words.
      const words = batch.targets.subarray(begin, begin + batch.lengths[row]! - 1);
      const converse = converseIds(words, this.vocabulary)?.ids;
      if (!converse) continue;
      targets.set(converse, begin);
      // Inputs are <start> then the same words.
      inputs.set(converse, begin + 1);
    }
    return { ...batch, inputs, targets };
  }
}
