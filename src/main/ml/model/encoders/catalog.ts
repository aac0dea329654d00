/**
 * The standard backbones users ask for, with what the workbench needs to
 * use each: input size, pixel normalization and which layer gives the
 * features.
 *
 * Two forms of each network are understood:
 * - `hub`: the TensorFlow Hub feature-vector model in TensorFlow.js graph
 *   format, downloaded on demand. Its output is the pooled vector (inputs in
 *   [0, 1]); it has no spatial grid, so it serves init-inject and merge.
 * - `keras`: the Keras application converted to a TensorFlow.js layers
 *   model (`convert` says how). Its named layer gives a spatial grid, so it
 *   also serves the attention decoder, and it can be fine-tuned.
 *
 * DenseNet201 has no hosted TensorFlow.js version; it is used converted.
 * `CAPTIONER_BACKBONE_MIRROR=<base URL>` makes every id download from
 * `<base>/<id>/model.json` instead (an offline mirror, or your conversions).
 */
import type { BackboneId } from '../../../../shared/runConfig';
import type { Normalization } from '../../features/encoder';

/** How the Keras application expects its pixels, before our [0, 1] input. */
export type KerasPreprocessing = Normalization | 'caffe' | 'raw-255';

export interface BackboneEntry {
  id: BackboneId;
  title: string;
  inputSize: number;
  hub: { url: string; pooledDim: number } | null;
  keras: {
    application: string;
    preprocessing: KerasPreprocessing;
    /** Last convolutional block: the spatial grid. */
    gridLayer: string;
    gridShape: [number, number, number];
  };
}

export const BACKBONES: Record<BackboneId, BackboneEntry> = {
  mobilenet_v2: {
    id: 'mobilenet_v2',
    title: 'MobileNetV2 (1.0, 224)',
    inputSize: 224,
    hub: { url: 'https://tfhub.dev/google/tfjs-model/imagenet/mobilenet_v2_100_224/feature_vector/3/default/1', pooledDim: 1280 },
    keras: { application: 'MobileNetV2', preprocessing: 'minus-one-to-one', gridLayer: 'out_relu', gridShape: [7, 7, 1280] },
  },
  resnet50: {
    id: 'resnet50',
    title: 'ResNet50 (v2 on Hub, v1 as Keras application)',
    inputSize: 224,
    hub: { url: 'https://tfhub.dev/google/tfjs-model/imagenet/resnet_v2_50/feature_vector/3/default/1', pooledDim: 2048 },
    keras: { application: 'ResNet50', preprocessing: 'caffe', gridLayer: 'conv5_block3_out', gridShape: [7, 7, 2048] },
  },
  densenet201: {
    id: 'densenet201',
    title: 'DenseNet201',
    inputSize: 224,
    hub: null,
    keras: { application: 'DenseNet201', preprocessing: 'imagenet', gridLayer: 'relu', gridShape: [7, 7, 1920] },
  },
  efficientnet_b0: {
    id: 'efficientnet_b0',
    title: 'EfficientNetB0',
    inputSize: 224,
    hub: { url: 'https://tfhub.dev/tensorflow/tfjs-model/efficientnet/b0/feature-vector/1/default/1', pooledDim: 1280 },
    keras: { application: 'EfficientNetB0', preprocessing: 'raw-255', gridLayer: 'top_activation', gridShape: [7, 7, 1280] },
  },
  inception_v3: {
    id: 'inception_v3',
    title: 'InceptionV3 (299)',
    inputSize: 299,
    hub: { url: 'https://tfhub.dev/google/tfjs-model/imagenet/inception_v3/feature_vector/3/default/1', pooledDim: 2048 },
    keras: { application: 'InceptionV3', preprocessing: 'minus-one-to-one', gridLayer: 'mixed10', gridShape: [8, 8, 2048] },
  },
};

export function isBackboneId(value: string): value is BackboneId {
  return Object.prototype.hasOwnProperty.call(BACKBONES, value);
}

/** The Python one-liner that converts the Keras application into a layers model folder. */
export function convertCommand(entry: BackboneEntry, outDir = `./${entry.id}`): string {
  return (
    `pip install tensorflowjs && python -c "import tensorflow as tf, tensorflowjs as tfjs; ` +
    `tfjs.converters.save_keras_model(tf.keras.applications.${entry.keras.application}(include_top=False, weights='imagenet', ` +
    `input_shape=(${entry.inputSize}, ${entry.inputSize}, 3)), '${outDir}')"`
  );
}

/** Where a catalog id downloads from: the mirror when set, else TF Hub; null when nothing is hosted. */
export function downloadUrl(entry: BackboneEntry, env: NodeJS.ProcessEnv = process.env): string | null {
  const mirror = env.CAPTIONER_BACKBONE_MIRROR?.trim();
  if (mirror) return `${mirror.replace(/\/+$/, '')}/${entry.id}/model.json`;
  return entry.hub?.url ?? null;
}
