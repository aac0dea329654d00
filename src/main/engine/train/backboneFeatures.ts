/**
 * Feature sources for pretrained backbones.
 *
 * Frozen (the default): every image goes through the backbone once, in
 * batches, and the features stay in memory for the whole run; a training
 * step is then only the decoder.
 *
 * Fine-tuned (`encoder.fineTune.enabled`, layers models): images are kept
 * as decoded bytes and every step runs the backbone; its top layers train
 * after `warmupEpochs`, with their own learning rate.
 */
import * as tf from '@tensorflow/tfjs';
import type { RunConfig } from '../../../shared/runConfig';
import type { DecoderFeatures } from '../model/decoder';
import { BackboneEncoder, resolveBackbone } from '../model/encoders/backbone';
import type { EncoderRecord } from './checkpoint';
import { withoutImages, type SplitData, type TrainingData } from './data';
import {
  CachedFeatureSource,
  decodeSplit,
  pixelBatch,
  type FeatureSource,
  type FeatureTable,
  type PixelBank,
  type SplitKey,
  tidyObject,
} from './featureSource';
import type { SetupContext } from './modelSetup';

/** Images per backbone forward pass when extracting features. */
const EXTRACT_BATCH = 32;

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
  try {
    if (config.decoder.variant === 'attention' && !encoder.hasGrid) {
      throw new Error(
        `The attention decoder needs a spatial feature grid, but ${config.encoder.source} gives pooled vectors only. ` +
          'Set encoder.featureLayer to a convolutional layer (or use a Keras-converted backbone), or choose the merge or init-inject decoder.',
      );
    }
    const size = encoder.spec.inputSize;
    context.progress('decoding images', 0, 2);
    const train = await decodeSplit(data.train, size, context.signal);
    context.progress('decoding images', 1, 2);
    const val = await decodeSplit(data.val, size, context.signal);
    const failed = train.failed.size + val.failed.size;
    if (failed > 0) context.log('warn', `${failed} images could not be decoded and are left out of training and validation.`);
    const kept: TrainingData = { ...data, train: withoutImages(data.train, train.failed), val: withoutImages(data.val, val.failed) };
    const record: EncoderRecord = {
      id: encoder.spec.id,
      inputSize: size,
      normalization: encoder.spec.normalization,
      channels: null,
      source: config.encoder.source,
      featureLayer: encoder.featureLayer,
      weightsIncluded: config.encoder.fineTune.enabled,
    };
    if (config.encoder.fineTune.enabled) {
      const weights = encoder.topLayerWeights(config.encoder.fineTune.layers);
      context.log('info', `Fine-tuning ${weights.length} weights of the top ${config.encoder.fineTune.layers} layers after ${config.encoder.fineTune.warmupEpochs} warm-up epochs.`);
      return { source: new FineTunedSource(encoder, { train: train.bank, val: val.bank }, weights, config.encoder.fineTune.warmupEpochs), data: kept, record };
    }
    const needGrid = config.decoder.variant === 'attention';
    const tables = {
      train: await extract(encoder, train.bank, kept.train, needGrid, context, 'train'),
      val: await extract(encoder, val.bank, kept.val, needGrid, context, 'val'),
    };
    const regions = encoder.spec.gridShape[0] * encoder.spec.gridShape[1];
    encoder.dispose();
    return { source: new CachedFeatureSource(tables, encoder.spec.pooledDim, needGrid ? regions : 0), data: kept, record };
  } catch (error) {
    encoder.dispose();
    throw error;
  }
}

async function extract(
  encoder: BackboneEncoder,
  bank: PixelBank,
  split: SplitData,
  needGrid: boolean,
  context: SetupContext,
  name: SplitKey,
): Promise<FeatureTable> {
  const dim = encoder.spec.pooledDim;
  const regions = encoder.spec.gridShape[0] * encoder.spec.gridShape[1];
  const pooled = new Float32Array(bank.count * dim);
  const grid = needGrid ? new Float32Array(bank.count * regions * dim) : null;
  for (let start = 0; start < bank.count; start += EXTRACT_BATCH) {
    if (context.signal?.aborted) throw new Error('Cancelled while extracting features.');
    const images = Array.from({ length: Math.min(EXTRACT_BATCH, bank.count - start) }, (_, i) => start + i);
    const out = tidyObject(() => encoder.encode(pixelBatch(bank, images, encoder.spec.normalization)));
    pooled.set(await out.pooled.data(), start * dim);
    if (grid) grid.set(await out.grid.data(), start * regions * dim);
    tf.dispose([out.pooled, out.grid]);
    context.progress(`extracting ${name} features (${split.images.length} images)`, start + images.length, bank.count);
    await new Promise((resolve) => setImmediate(resolve));
  }
  return { count: bank.count, pooled, grid };
}

class FineTunedSource implements FeatureSource {
  readonly featureDim: number;
  readonly gridRegions: number;

  constructor(
    private readonly encoder: BackboneEncoder,
    private readonly banks: Record<SplitKey, PixelBank>,
    private readonly weights: Array<[string, tf.Variable]>,
    private readonly warmupEpochs: number,
  ) {
    this.featureDim = encoder.spec.pooledDim;
    this.gridRegions = encoder.spec.gridShape[0] * encoder.spec.gridShape[1];
  }

  trainable(): Array<[string, tf.Variable]> {
    return this.weights;
  }

  trainsAt(epoch: number): boolean {
    return epoch >= this.warmupEpochs;
  }

  features(split: SplitKey, images: readonly number[], training: boolean): DecoderFeatures {
    const { pooled, grid } = this.encoder.encode(pixelBatch(this.banks[split], images, this.encoder.spec.normalization), training);
    return { pooled, grid };
  }

  dispose(): void {
    this.encoder.dispose();
  }
}
