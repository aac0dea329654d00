/**
 * Feature sources for pretrained backbones.
 *
 * Frozen (the default): the backbone runs over every image once and its
 * features go to the feature cache (`<dataDir>/cache/features`, keyed by the
 * weights and the images, reused by later runs); a training step then reads
 * features and runs only the decoder.
 *
 * Fine-tuned (`encoder.fineTune.enabled`, layers models): images come from
 * the pixel cache and every step runs the backbone; its top layers train
 * after `warmupEpochs`, with their own learning rate.
 */
import { join } from 'node:path';
import type { RunConfig } from '../../../shared/runConfig';
import { openFeatureStore } from '../features/featureStore';
import { BackboneEncoder, resolveBackbone } from '../model/encoders/backbone';
import type { EncoderRecord } from './checkpoint';
import type { TrainingData } from './data';
import { CachedFeatureSource, PixelFeatureSource, runImageSet, splitIds, type FeatureSource } from './featureSource';
import { openPixels, withoutFailed, type SetupContext } from './setupContext';

export interface BackboneSetup {
  source: FeatureSource;
  data: TrainingData;
  record: EncoderRecord;
}

export async function backboneFeatureSource(config: RunConfig, data: TrainingData, context: SetupContext): Promise<BackboneSetup> {
  const resolved = await resolveBackbone(config.encoder.source, {
    dataDir: context.dataDir,
    ...(context.signal ? { signal: context.signal } : {}),
    onDownload: (p) => context.progress(`downloading ${config.encoder.source} (${p.file})`, p.bytesDone, p.bytesTotal),
    log: (message) => context.log('info', message),
  });
  const encoder = await BackboneEncoder.load(resolved, {
    featureLayer: config.encoder.featureLayer,
    normalization: config.encoder.normalization,
    fallbackInputSize: config.encoder.imageSize,
  });
  const needGrid = config.decoder.variant === 'attention';
  const fineTune = config.encoder.fineTune;
  let handedOver = false;
  try {
    if (needGrid && !encoder.hasGrid) {
      throw new Error(
        `The attention decoder needs a spatial feature grid, but ${config.encoder.source} gives pooled vectors only. ` +
          'Set encoder.featureLayer to a convolutional layer (or use a Keras-converted backbone), or choose the merge or init-inject decoder.',
      );
    }
    const record: EncoderRecord = {
      id: encoder.spec.id,
      inputSize: encoder.spec.inputSize,
      normalization: encoder.spec.normalization,
      channels: null,
      source: config.encoder.source,
      featureLayer: encoder.featureLayer,
      weightsIncluded: fineTune.enabled,
    };
    if (fineTune.enabled) {
      const weights = encoder.topLayerWeights(fineTune.layers);
      const { store, kept } = await openPixels(data, encoder.spec.inputSize, context);
      context.log('info', `Fine-tuning ${weights.length} weights of the top ${fineTune.layers} layers after ${fineTune.warmupEpochs} warm-up epochs.`);
      handedOver = true;
      const source = new PixelFeatureSource(encoder, store, splitIds(kept), () => weights, fineTune.warmupEpochs, () => encoder.dispose());
      return { source, data: kept, record };
    }
    const { store } = await openFeatureStore({
      cacheRoot: join(context.dataDir, 'cache'),
      imageSet: runImageSet(data),
      encoder,
      grid: needGrid,
      ...(context.signal ? { signal: context.signal } : {}),
      onProgress: (p) => context.progress(`extracting ${encoder.spec.id} features (${p.stage})`, p.done, p.total),
    });
    const kept = withoutFailed(data, store);
    return { source: new CachedFeatureSource(store, splitIds(kept), needGrid), data: kept, record };
  } finally {
    // Frozen: the features are cached, the backbone is no longer needed.
    if (!handedOver) encoder.dispose();
  }
}
