/**
 * `npm run bench -- shapes-attention --checkpoint DIR --dataset DIR [--split test]`
 *
 * Where an attention decoder looks when it chooses the second object of a
 * relation (src/main/ml/eval/attentionProbe.ts): every reference caption of
 * the split is fed word by word, and at each relation between two mentions
 * that name one pair of objects, at the step that begins describing the
 * second, the attention's mean weight on the second object's cells, the
 * first's and any object's. One JSON line.
 *
 * `--checkpoint` is a checkpoint folder of a run (RUN_DIR/checkpoints/best,
 * …/epoch-0012); `--dataset` the `captioner synth` folder it was trained on.
 */
import { probeAttention } from '../src/main/ml/eval/attentionProbe';
import { probeCheckpoint } from './lib/probeCheckpoint';

export async function run(args: string[]): Promise<void> {
  await probeCheckpoint('shapes-attention', args, async ({ model, checkpoint, dataset, split, backend }) => {
    const result = await probeAttention(model, dataset, split);
    const rounded = (value: number) => Number(value.toFixed(4));
    process.stdout.write(
      `${JSON.stringify({
        bench: 'shapes-attention',
        items: result.items,
        onSecond: rounded(result.onSecond),
        onFirst: rounded(result.onFirst),
        onObjects: rounded(result.onObjects),
        checkpoint,
        split,
        backend,
      })}\n`,
    );
  });
}
