/**
 * What the Shapes probe benches share (shapes-spatial, shapes-attention):
 * `--checkpoint DIR --dataset DIR [--split test]` parsed, the backend set up,
 * the checkpoint's model loaded into a scratch data directory, and both
 * cleaned up after the probe.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { initBackend } from '../../src/main/ml/backend';
import { loadCheckpointModel, type InferenceModel } from '../../src/main/ml/captioning/model';

export interface ProbeTarget {
  model: InferenceModel;
  checkpoint: string;
  dataset: string;
  split: string;
  backend: string;
}

export async function probeCheckpoint(bench: string, args: string[], probe: (target: ProbeTarget) => Promise<void>): Promise<void> {
  const { values } = parseArgs({ args, options: { checkpoint: { type: 'string' }, dataset: { type: 'string' }, split: { type: 'string', default: 'test' } } });
  if (!values.checkpoint || !values.dataset) throw new Error(`Usage: npm run bench -- ${bench} --checkpoint DIR --dataset DIR [--split test]`);
  const backend = await initBackend();
  const dataDir = mkdtempSync(join(tmpdir(), `captioner-bench-${bench}-`));
  const model = await loadCheckpointModel(values.checkpoint, { dataDir });
  try {
    await probe({ model, checkpoint: values.checkpoint, dataset: values.dataset, split: values.split, backend: backend.name });
  } finally {
    model.dispose();
    rmSync(dataDir, { recursive: true, force: true });
  }
}
