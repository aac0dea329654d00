import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCheckpointModel, type InferenceModel } from '../../src/main/ml/captioning/model';
import { probeAttention } from '../../src/main/ml/eval/attentionProbe';
import { trainTinyRun, type TrainedRun } from '../helpers/trainedRun';

describe('the attention probe', () => {
  let run: TrainedRun;
  let model: InferenceModel;
  beforeAll(async () => {
    run = await trainTinyRun({ images: 60, decoder: { variant: 'attention', attentionDim: 32 } });
    model = await loadCheckpointModel(run.bestCheckpoint, { dataDir: run.dataDir });
  }, 300_000);
  afterAll(() => model?.dispose());

  it('reads the attention at the relations of the references: weights on the second object, the first and any object', async () => {
    const result = await probeAttention(model, run.datasetDir, 'train');
    expect(result.items).toBeGreaterThan(0);
    // Each object covers at least the cell that holds its centre, so an attention spread over the 4×4 grid puts some weight on each.
    expect(result.onSecond).toBeGreaterThan(0);
    expect(result.onFirst).toBeGreaterThan(0);
    // Both objects are among the scene's objects: no more weight on either than on all of them, and no more than all of it.
    expect(result.onObjects).toBeGreaterThanOrEqual(Math.max(result.onFirst, result.onSecond) - 1e-6);
    expect(result.onObjects).toBeLessThanOrEqual(1 + 1e-6);
  });

  it('names the split it cannot find', async () => {
    await expect(probeAttention(model, run.datasetDir, 'nowhere')).rejects.toThrow(/no images in the nowhere split/);
  });
});
