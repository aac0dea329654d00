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
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { initBackend } from '../src/main/ml/backend';
import { loadCheckpointModel } from '../src/main/ml/captioning/model';
import { probeAttention } from '../src/main/ml/eval/attentionProbe';

export async function run(args: string[]): Promise<void> {
  const { values } = parseArgs({ args, options: { checkpoint: { type: 'string' }, dataset: { type: 'string' }, split: { type: 'string', default: 'test' } } });
  if (!values.checkpoint || !values.dataset) throw new Error('Usage: npm run bench -- shapes-attention --checkpoint DIR --dataset DIR [--split test]');
  const backend = await initBackend();
  const dataDir = mkdtempSync(join(tmpdir(), 'captioner-bench-shapes-attention-'));
  const model = await loadCheckpointModel(values.checkpoint, { dataDir });
  try {
    const result = await probeAttention(model, values.dataset, values.split);
    const rounded = (value: number) => Number(value.toFixed(4));
    process.stdout.write(
      `${JSON.stringify({
        bench: 'shapes-attention',
        items: result.items,
        onSecond: rounded(result.onSecond),
        onFirst: rounded(result.onFirst),
        onObjects: rounded(result.onObjects),
        checkpoint: values.checkpoint,
        split: values.split,
        backend: backend.name,
      })}\n`,
    );
  } finally {
    model.dispose();
    rmSync(dataDir, { recursive: true, force: true });
  }
}
