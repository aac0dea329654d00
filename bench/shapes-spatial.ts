/**
 * `npm run bench -- shapes-spatial --checkpoint DIR --dataset DIR [--split test]`
 *
 * The spatial probe (src/main/ml/eval/spatialProbe.ts) of a trained
 * Shapes checkpoint: every reference caption of the split is fed to the
 * decoder word by word (teacher forcing), and at each word that says where
 * ("top", "left" of a position phrase; "left", "under" of a relation) the
 * probability of the true side is compared with the opposite side's. One
 * JSON line per kind of word and number of objects in the scene, then one
 * per kind: `accuracy` (the true side more likely), `trueShare` (its mean
 * share of the pair's probability; 0.5 is chance) and `items`. Relation
 * words also get a line per `decidedBy`: 'first-object' where the first
 * object's own column or row decides the side (an outer one), 'second-object'
 * where it is the middle one and the side depends on the object named next.
 * A model that knows only where the first object is gets the second at chance.
 * `relation-axis` lines weigh a relation's first word ("to", "left" against
 * "above", "under") where every other object shares the first one's row or
 * column, so only one axis is true; `topWordAccuracy` is how often the true side's likeliest word
 * beats the other's, the comparison a decoding step makes.
 * Horizontal relation words also get a line per `phrase` ("to the side of"
 * for "to the left of", "side of" for "left of"), alone and with `decidedBy`.
 *
 * It says whether the model knows where things are, apart from what beam
 * search chooses to state and from misnamed objects (docs/shapes-benchmark.md,
 * "Why relations and positions are wrong").
 *
 * `--checkpoint` is a checkpoint folder of a run (RUN_DIR/checkpoints/best,
 * or epoch-0007), `--dataset` the `captioner synth` folder it was trained on.
 */
import { probeSpatial } from '../src/main/ml/eval/spatialProbe';
import { probeCheckpoint } from './lib/probeCheckpoint';

export async function run(args: string[]): Promise<void> {
  await probeCheckpoint('shapes-spatial', args, async ({ model, checkpoint, dataset, split, backend }) => {
    const { tallies, wordsOutsideVocabulary } = await probeSpatial(model, dataset, split);
    for (const tally of tallies) {
      process.stdout.write(
        `${JSON.stringify({
          bench: 'shapes-spatial',
          kind: tally.kind,
          objects: tally.objects,
          ...(tally.decidedBy ? { decidedBy: tally.decidedBy } : {}),
          ...(tally.phrase ? { phrase: tally.phrase } : {}),
          accuracy: Number(tally.accuracy.toFixed(4)),
          trueShare: Number(tally.trueShare.toFixed(4)),
          topWordAccuracy: Number(tally.topWordAccuracy.toFixed(4)),
          items: tally.items,
          checkpoint,
          split,
          backend,
          ...(wordsOutsideVocabulary.length ? { wordsOutsideVocabulary } : {}),
        })}\n`,
      );
    }
  });
}
