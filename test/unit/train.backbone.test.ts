import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { BackboneEncoder, resolveBackbone } from '../../src/main/ml/model/encoders/backbone';
import { readCheckpoint } from '../../src/main/ml/train/checkpoint';
import { saveLayersBackbone } from '../helpers/backboneModels';
import { useTestBackend } from '../helpers/captionModel';
import { tinyConfig, tinyWorkspace, trainTiny, type TinyWorkspace } from '../helpers/trainingRun';

let workspace: TinyWorkspace;
let backboneDir: string;
beforeAll(async () => {
  await useTestBackend();
  workspace = await tinyWorkspace();
  backboneDir = join(workspace.root, 'backbone');
  await saveLayersBackbone(backboneDir, 16);
});

describe('training with a pretrained backbone', () => {
  it('frozen: features are computed once into the feature cache and reused by the next run', async () => {
    const config = tinyConfig(workspace.dataset, (c) => {
      c.encoder.source = backboneDir;
      c.encoder.featureLayer = 'conv2';
      c.training.epochs = 1;
    });
    const first = await trainTiny(workspace, config);
    expect(first.result.outcome).toBe('completed');
    const caches = readdirSync(join(workspace.root, 'cache', 'features'));
    expect(caches).toHaveLength(1);
    const checkpoint = await readCheckpoint(first.result.lastCheckpoint!);
    expect(checkpoint.json.encoder).toMatchObject({ source: backboneDir, featureLayer: 'conv2', weightsIncluded: false });
    expect(checkpoint.weights.every((w) => w.name.startsWith('decoder/'))).toBe(true);

    const second = await trainTiny(workspace, { ...config, decoder: { ...config.decoder, variant: 'attention' } });
    expect(second.result.outcome).toBe('completed');
    // The attention run needs grids too, so it has its own cache; a third run reuses one of them.
    const third = await trainTiny(workspace, config);
    expect(readdirSync(join(workspace.root, 'cache', 'features')).length).toBeLessThanOrEqual(2);
    expect(third.result.globalStep).toBe(first.result.globalStep);
  });

  it('fine-tuned: the top layers train after the warm-up and travel in the checkpoint', async () => {
    const config = tinyConfig(workspace.dataset, (c) => {
      c.encoder.source = backboneDir;
      c.encoder.featureLayer = 'conv2';
      c.encoder.fineTune = { enabled: true, layers: 1, warmupEpochs: 1, learningRate: 1e-3 };
      c.training.epochs = 2;
    });
    const { result } = await trainTiny(workspace, config);
    const epochs = result.lastCheckpoint!.replace(/epoch-0002$/, '');
    const after1 = await readCheckpoint(join(epochs, 'epoch-0001'));
    const after2 = await readCheckpoint(result.lastCheckpoint!);
    const kernel = (c: typeof after1) => c.weights.find((w) => w.name === 'encoder/conv2/kernel')!;
    expect(kernel(after1)).toBeDefined();
    // Frozen during the warm-up epoch (equal to the saved model), trained after it.
    const saved = await BackboneEncoder.load(await resolveBackbone(backboneDir, { dataDir: workspace.root }), { featureLayer: 'conv2' });
    const original = saved.topLayerWeights(1).find(([name]) => name === 'conv2/kernel')![1].dataSync();
    saved.dispose();
    expect(Array.from(kernel(after1).data)).toEqual(Array.from(original));
    expect(Array.from(kernel(after2).data)).not.toEqual(Array.from(kernel(after1).data));
    expect(after2.json.encoder.weightsIncluded).toBe(true);
    expect(after2.weights.some((w) => w.name === 'encoder/conv/kernel')).toBe(false);
  });
});
