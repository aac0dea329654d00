/**
 * A model ready to caption images: image preprocessing, encoder, decoder and
 * vocabulary, loaded from a training checkpoint or from an exported model
 * package. Evaluation, batch captioning and export all start here, so a
 * caption means the same thing whichever way the model was loaded.
 */
import * as tf from '@tensorflow/tfjs';
import type { RunConfig } from '../../../shared/runConfig';
import type { ResizeFit } from '../../lib/data/images/decode';
import { Vocabulary } from '../../lib/data/text/vocabulary';
import type { FeatureEncoder, Normalization } from '../features/encoder';
import { CaptionDecoder, type DecoderOptions } from '../model/decoder';
import { BackboneEncoder, resolveBackbone, type ResolvedBackbone } from '../model/encoders/backbone';
import { BACKBONES, isBackboneId } from '../model/encoders/catalog';
import { readModelFolder } from '../model/encoders/modelFiles';
import { SCRATCH_CNN_ID, ScratchCnn } from '../model/encoders/scratchCnn';
import type { SerializedTensor } from '../model/params';
import { Rng } from '../model/rng';
import { readCheckpoint, type CheckpointJson, type EncoderRecord } from '../train/checkpoint';

/** How an image file becomes the encoder's input. */
export interface Preprocessing {
  inputSize: number;
  fit: ResizeFit;
  normalization: Normalization;
  maxPixels: number;
}

/** Training decodes every image with these (src/main/engine/train/featureSource.ts). */
export const TRAINING_FIT: ResizeFit = 'squash';
export const MAX_INPUT_PIXELS = 64_000_000;

export interface InferenceModel {
  decoder: CaptionDecoder;
  encoder: FeatureEncoder;
  vocabulary: Vocabulary;
  preprocessing: Preprocessing;
  /** What the encoder is: scratch CNN weights or a backbone's model folder. */
  encoderRecord: EncoderRecord;
  /** The whole run config when the model comes from a checkpoint (dataset, seed); null for a package. */
  runConfig: RunConfig | null;
  /** Longest caption the model was trained for: the default decoding limit. */
  maxCaptionLength: number;
  /** The backbone's model folder (null for the scratch CNN). */
  backbone: ResolvedBackbone | null;
  dispose(): void;
}

/** Splits checkpoint weights into the decoder's and the encoder's by their `decoder/`, `encoder/` prefixes. */
export function splitWeights(weights: readonly SerializedTensor[]): { decoder: SerializedTensor[]; encoder: SerializedTensor[] } {
  const decoder: SerializedTensor[] = [];
  const encoder: SerializedTensor[] = [];
  for (const tensor of weights) {
    if (tensor.name.startsWith('decoder/')) decoder.push({ ...tensor, name: tensor.name.slice('decoder/'.length) });
    else if (tensor.name.startsWith('encoder/')) encoder.push({ ...tensor, name: tensor.name.slice('encoder/'.length) });
    else throw new Error(`Checkpoint weight "${tensor.name}" belongs to neither the decoder nor the encoder.`);
  }
  return { decoder, encoder };
}

/** A decoder with saved weights; its initial values are overwritten, so the seed does not matter. */
export function decoderFrom(options: DecoderOptions, weights: readonly SerializedTensor[], source: string): CaptionDecoder {
  const decoder = new CaptionDecoder(options, new Rng(0));
  try {
    decoder.params.load(weights, source);
  } catch (error) {
    decoder.dispose();
    throw error;
  }
  return decoder;
}

export function scratchEncoderFrom(record: EncoderRecord, weights: readonly SerializedTensor[], source: string): ScratchCnn {
  if (record.channels === null) throw new Error(`${source}: the scratch CNN record has no channel count.`);
  const encoder = new ScratchCnn(
    {
      inputSize: record.inputSize,
      channels: record.channels,
      stemStride: record.stemStride ?? 1,
      coordinates: record.coordinates ?? false,
      directions: record.directions ?? false,
      ...(record.gridCells ? { gridCells: record.gridCells } : {}),
      ...(record.separateCells ? { separateCells: true } : {}),
    },
    new Rng(0),
  );
  try {
    encoder.params.load(weights, source);
  } catch (error) {
    encoder.dispose();
    throw error;
  }
  return encoder;
}

/** A backbone with the options training used, and fine-tuned weights (layers models) put back. */
export async function backboneEncoderFrom(
  resolved: ResolvedBackbone,
  options: { featureLayer: string | null; normalization: RunConfig['encoder']['normalization']; fallbackInputSize: number },
  fineTuned: readonly SerializedTensor[],
  source: string,
): Promise<BackboneEncoder> {
  const encoder = await BackboneEncoder.load(resolved, {
    featureLayer: options.featureLayer ?? undefined,
    normalization: options.normalization,
    fallbackInputSize: options.fallbackInputSize,
  });
  if (fineTuned.length > 0) {
    const model = encoder.layersModel;
    if (!model) throw new Error(`${source}: fine-tuned encoder weights, but ${resolved.source} is not a layers model.`);
    const byName = new Map<string, tf.LayerVariable>(
      model.layers.flatMap((layer) => layer.weights.map((weight) => [`${layer.name}/${weight.originalName}`, weight] as [string, tf.LayerVariable])),
    );
    for (const tensor of fineTuned) {
      const weight = byName.get(tensor.name);
      if (!weight) throw new Error(`${source}: fine-tuned weight "${tensor.name}" is not in ${resolved.source}.`);
      tf.tidy(() => {
        weight.write(tf.tensor(tensor.data, tensor.shape, 'float32'));
      });
    }
  }
  return encoder;
}

export function preprocessingOf(encoder: FeatureEncoder): Preprocessing {
  return { inputSize: encoder.spec.inputSize, fit: TRAINING_FIT, normalization: encoder.spec.normalization, maxPixels: MAX_INPUT_PIXELS };
}

/** Loads a checkpoint folder (`…/checkpoints/best`) as an inference model. */
export async function loadCheckpointModel(path: string, context: { dataDir: string; signal?: AbortSignal }): Promise<InferenceModel> {
  const checkpoint = await readCheckpoint(path, { optimizer: false });
  const json: CheckpointJson = checkpoint.json;
  const source = `${checkpoint.path}/checkpoint.json`;
  const weights = splitWeights(checkpoint.weights);
  const vocabulary = Vocabulary.fromJson(json.vocabulary, `${source} vocabulary`);
  const record = json.encoder;
  let encoder: FeatureEncoder;
  let backbone: ResolvedBackbone | null = null;
  if (record.id === SCRATCH_CNN_ID) {
    encoder = scratchEncoderFrom(record, weights.encoder, source);
  } else {
    backbone = await resolveBackbone(record.source ?? record.id, {
      dataDir: context.dataDir,
      ...(context.signal ? { signal: context.signal } : {}),
    });
    encoder = await backboneEncoderFrom(
      backbone,
      { featureLayer: record.featureLayer, normalization: json.config.encoder.normalization, fallbackInputSize: json.config.encoder.imageSize },
      weights.encoder,
      source,
    );
  }
  let decoder: CaptionDecoder;
  try {
    decoder = decoderFrom(json.decoder, weights.decoder, source);
  } catch (error) {
    disposeEncoder(encoder);
    throw error;
  }
  return {
    decoder,
    encoder,
    vocabulary,
    preprocessing: preprocessingOf(encoder),
    encoderRecord: record,
    runConfig: json.config,
    maxCaptionLength: json.config.vocab.maxCaptionLength,
    backbone,
    dispose() {
      decoder.dispose();
      disposeEncoder(encoder);
    },
  };
}

/** A backbone model folder on disk (an exported package's `encoder/`), resolved like a catalog or folder source. */
export async function resolveBackboneFolder(dir: string, id: string): Promise<ResolvedBackbone> {
  return { folder: await readModelFolder(dir), entry: isBackboneId(id) ? BACKBONES[id] : null, source: id };
}

export function disposeEncoder(encoder: FeatureEncoder): void {
  (encoder as FeatureEncoder & { dispose?: () => void }).dispose?.();
}
