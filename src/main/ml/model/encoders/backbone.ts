/**
 * Pretrained backbones as image encoders: TensorFlow.js layers or graph
 * models from a catalog id (downloaded once, cached, verified), a local
 * folder, or a URL. Features come from a named layer (layers models) or node
 * (graph models): a 4-D output is a spatial grid (attention) and its mean the
 * pooled vector; a 2-D output is the pooled vector only.
 */
import * as tf from '@tensorflow/tfjs';
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { EncodedBatch, EncoderSpec, FeatureEncoder, Normalization } from '../../features/encoder';
import { BACKBONES, convertCommand, downloadUrl, isBackboneId, type BackboneEntry, type KerasPreprocessing } from './catalog';
import { cachedDownload, type DownloadProgress } from './download';
import { checkWeightFiles, folderLoadHandler, isUrl, readModelFolder, type ModelFolder } from './modelFiles';

export interface ResolveContext {
  dataDir: string;
  signal?: AbortSignal;
  onDownload?(progress: DownloadProgress): void;
  log?(message: string): void;
}

export interface ResolvedBackbone {
  folder: ModelFolder;
  /** The catalog entry, when `source` named one. */
  entry: BackboneEntry | null;
  /** What the user asked for (id, folder or URL). */
  source: string;
}

const cacheFolder = (dataDir: string, key: string) => join(dataDir, 'backbones', key);

/** A catalog id, URL or local folder → a verified model folder on disk. */
export async function resolveBackbone(source: string, context: ResolveContext): Promise<ResolvedBackbone> {
  if (isBackboneId(source)) {
    const entry = BACKBONES[source];
    const url = downloadUrl(entry);
    if (!url) {
      throw new Error(
        `No hosted TensorFlow.js version of ${entry.title} is known. Convert the Keras application once:\n  ${convertCommand(entry)}\n` +
          `then set encoder.source to that folder (its grid layer is "${entry.keras.gridLayer}"), or set CAPTIONER_BACKBONE_MIRROR to a server holding ${entry.id}/model.json.`,
      );
    }
    const dir = await cachedDownload(url, cacheFolder(context.dataDir, entry.id), downloadOptions(context));
    return { folder: await readModelFolder(dir), entry, source };
  }
  if (isUrl(source)) {
    const key = `url-${createHash('sha256').update(source).digest('hex').slice(0, 16)}`;
    const dir = await cachedDownload(source, cacheFolder(context.dataDir, key), downloadOptions(context));
    return { folder: await readModelFolder(dir), entry: null, source };
  }
  const folder = await readModelFolder(source);
  await checkWeightFiles(folder);
  return { folder, entry: null, source };
}

function downloadOptions(context: ResolveContext) {
  return {
    ...(context.signal ? { signal: context.signal } : {}),
    ...(context.onDownload ? { onProgress: context.onDownload } : {}),
    ...(context.log ? { log: context.log } : {}),
  };
}

export interface BackboneOptions {
  /** Layer (layers model) or node (graph model) to take features from; default: catalog grid layer, else the output. */
  featureLayer?: string | undefined;
  /** Input normalization; 'auto' follows the catalog (hub models take [0, 1]). */
  normalization?: Normalization | 'auto';
  /** Input size when the model does not declare one. */
  fallbackInputSize?: number;
}

/** Maps [0, 1] pixels to what a Keras application was trained on. */
function preprocessFromUnit(x: tf.Tensor4D, preprocessing: KerasPreprocessing): tf.Tensor4D {
  switch (preprocessing) {
    case 'zero-to-one':
      return x;
    case 'minus-one-to-one':
      return tf.sub(tf.mul(x, 2), 1);
    case 'imagenet':
      return tf.div(tf.sub(x, tf.tensor1d([0.485, 0.456, 0.406])), tf.tensor1d([0.229, 0.224, 0.225]));
    case 'raw-255':
      return tf.mul(x, 255);
    case 'caffe':
      // RGB → BGR, 0..255, minus the ImageNet channel means (Keras "caffe" mode).
      return tf.sub(tf.reverse(tf.mul(x, 255), -1), tf.tensor1d([103.939, 116.779, 123.68]));
  }
}

export class BackboneEncoder implements FeatureEncoder {
  private constructor(
    readonly spec: EncoderSpec,
    readonly resolved: ResolvedBackbone,
    private readonly run: (images: tf.Tensor4D, training: boolean) => tf.Tensor,
    private readonly hash: string,
    /** The loaded layers model (fine-tuning), or null for graph models. */
    readonly layersModel: tf.LayersModel | null,
    readonly featureLayer: string | null,
    private readonly release: () => void,
  ) {}

  static async load(resolved: ResolvedBackbone, options: BackboneOptions = {}): Promise<BackboneEncoder> {
    const { folder, entry } = resolved;
    const handler = folderLoadHandler(folder);
    // Keras-converted catalog models get their preprocessing inside the encoder; hub models and your own take the chosen normalization.
    const kerasForm = folder.format === 'layers' && entry !== null;
    const normalization: Normalization = options.normalization && options.normalization !== 'auto' ? options.normalization : 'zero-to-one';
    const preprocessing: KerasPreprocessing = kerasForm && (!options.normalization || options.normalization === 'auto') ? entry.keras.preprocessing : 'zero-to-one';

    let run: (images: tf.Tensor4D, training: boolean) => tf.Tensor;
    let inputShape: (number | null)[];
    let layersModel: tf.LayersModel | null = null;
    let featureLayer: string | null = null;
    let release: () => void;
    if (folder.format === 'layers') {
      const model = await tf.loadLayersModel(handler);
      layersModel = model;
      featureLayer = options.featureLayer ?? (entry && hasLayer(model, entry.keras.gridLayer) ? entry.keras.gridLayer : null);
      let featureModel = model;
      if (featureLayer) {
        if (!hasLayer(model, featureLayer)) {
          throw new Error(`${folder.file}: no layer named "${featureLayer}" (encoder.featureLayer). Layers: ${tailNames(model.layers.map((l) => l.name))}.`);
        }
        featureModel = tf.model({ inputs: model.inputs, outputs: model.getLayer(featureLayer).output as tf.SymbolicTensor });
      }
      inputShape = model.inputs[0]!.shape;
      run = (images, training) => featureModel.apply(preprocessFromUnit(images, preprocessing), { training }) as tf.Tensor;
      release = () => model.dispose();
    } else {
      const model = await tf.loadGraphModel(handler);
      featureLayer = options.featureLayer ?? null;
      if (featureLayer && !model.weights[featureLayer] && !graphHasNode(folder, featureLayer)) {
        throw new Error(`${folder.file}: no node named "${featureLayer}" (encoder.featureLayer).`);
      }
      inputShape = model.inputs[0]?.shape ?? [];
      run = (images) => {
        const input = preprocessFromUnit(images, preprocessing);
        return (featureLayer ? model.execute(input, featureLayer) : model.predict(input)) as tf.Tensor;
      };
      release = () => model.dispose();
    }
    const declared = inputShape[1];
    const inputSize = typeof declared === 'number' && declared > 0 ? declared : (entry?.inputSize ?? options.fallbackInputSize ?? 224);
    // One probe on zeros tells the feature shape whatever the model is.
    const probe = tf.tidy(() => run(tf.zeros([1, inputSize, inputSize, 3]), false));
    const shape = probe.shape;
    probe.dispose();
    let gridShape: [number, number, number];
    if (shape.length === 4) gridShape = [shape[1]!, shape[2]!, shape[3]!];
    else if (shape.length === 2) gridShape = [1, 1, shape[1]!];
    else throw new Error(`${folder.file}: features of shape [${shape}] are neither [batch, h, w, c] nor [batch, c]; choose encoder.featureLayer.`);
    const spec: EncoderSpec = {
      id: entry?.id ?? resolved.source,
      inputSize,
      normalization,
      pooledDim: gridShape[2],
      gridShape,
    };
    return new BackboneEncoder(spec, resolved, run, await hashFolder(folder), layersModel, featureLayer, release);
  }

  /** True when the features include a spatial grid (more than one region). */
  get hasGrid(): boolean {
    return this.spec.gridShape[0] * this.spec.gridShape[1] > 1;
  }

  encode(images: tf.Tensor4D, training = false): EncodedBatch {
    return tf.tidy(() => {
      const out = this.run(images, training);
      if (out.rank === 4) {
        const [batch, rows, cols, channels] = out.shape as [number, number, number, number];
        const grid = tf.reshape(out, [batch, rows * cols, channels]) as tf.Tensor3D;
        return { grid, pooled: tf.mean(grid, 1) as tf.Tensor2D };
      }
      const pooled = out as tf.Tensor2D;
      return { pooled, grid: tf.expandDims(pooled, 1) as tf.Tensor3D };
    });
  }

  weightsHash(): string {
    return this.hash;
  }

  /**
   * The weights of the top `count` layers that have any, for fine-tuning
   * (layers models only), named `<layer>/<weight>`.
   */
  topLayerWeights(count: number): Array<[string, tf.Variable]> {
    if (!this.layersModel) throw new Error(`Fine-tuning needs a layers-format model; ${this.resolved.source} is a graph model.`);
    const stop = this.featureLayer ? this.layersModel.layers.findIndex((layer) => layer.name === this.featureLayer) : this.layersModel.layers.length - 1;
    const withWeights = this.layersModel.layers.slice(0, stop + 1).filter((layer) => layer.trainableWeights.length > 0);
    return withWeights.slice(-count).flatMap((layer) =>
      layer.trainableWeights.map((weight) => {
        // Weight names are `<layer>/<weight>` already in converted Keras models; keep one layer prefix.
        const own = weight.originalName.split('/').pop() ?? weight.originalName;
        return [`${layer.name}/${own}`, weight.read() as tf.Variable] as [string, tf.Variable];
      }),
    );
  }

  dispose(): void {
    this.release();
  }
}

function hasLayer(model: tf.LayersModel, name: string): boolean {
  return model.layers.some((layer) => layer.name === name);
}

function graphHasNode(folder: ModelFolder, name: string): boolean {
  const nodes = (folder.json.modelTopology as { node?: Array<{ name: string }> }).node ?? [];
  return nodes.some((node) => node.name === name);
}

function tailNames(names: string[]): string {
  return names.length > 12 ? `…, ${names.slice(-12).join(', ')}` : names.join(', ');
}

async function hashFolder(folder: ModelFolder): Promise<string> {
  const hash = createHash('sha256');
  hash.update(await readFile(folder.file));
  for (const group of folder.json.weightsManifest) for (const shard of group.paths) hash.update(await readFile(join(folder.dir, shard)));
  return hash.digest('hex');
}
