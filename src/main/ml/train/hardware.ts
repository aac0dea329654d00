/**
 * Hardware auto-configuration for training: a batch size whose estimated
 * step memory fits, and warnings the user must see (the pure-JS backend is
 * orders of magnitude slower; tfjs has no float16 training).
 */
import { freemem } from 'node:os';
import type { BackendInfo } from '../../../shared/types';
import type { DecoderOptions } from '../model/decoder';

export interface StepShape {
  decoder: DecoderOptions;
  batchSize: number;
  /** Longest target sequence (words + <end>). */
  steps: number;
  /** Grid regions the attention decoder attends over (0 otherwise). */
  gridRegions: number;
  /** Scratch CNN input edge, width and first stride, when the encoder trains in the step. */
  cnn: { inputSize: number; channels: number; stemStride?: number } | null;
  /** Trainable parameters (decoder plus trained encoder). */
  parameters: number;
}

/**
 * A deliberately generous estimate of the peak bytes of one training step:
 * everything kept for backpropagation, the logits and their gradient, and
 * weights with their gradients and two Adam moments. float32 throughout.
 */
export function estimateStepBytes(shape: StepShape): number {
  const { decoder: d, batchSize: b, steps: t } = shape;
  const rows = b * t;
  const gates = d.cell === 'lstm' ? 4 : 3;
  let floats = 0;
  floats += rows * d.embeddingDim * 2;
  floats += rows * d.layers * d.units * (gates * 2 + 4);
  floats += rows * d.units * 3; // merge / deep output and dropout masks
  floats += rows * d.vocabSize * 4; // logits, log-softmax, target distribution, gradient
  if (d.variant === 'attention') floats += rows * shape.gridRegions * (d.attentionDim * 2 + 2) + b * shape.gridRegions * d.attentionDim;
  if (shape.cnn) {
    let size = shape.cnn.inputSize / (shape.cnn.stemStride ?? 1);
    let channels = shape.cnn.channels;
    for (let block = 0; block < 4; block++) {
      floats += b * size * size * channels * 3;
      if (block < 3) size /= 2;
      channels *= 2;
    }
  }
  floats += shape.parameters * 4;
  return floats * 4 * 1.5;
}

/** Bytes a step may use: half the free memory on CPU backends; a conservative 4 GiB on a GPU, whose free memory tfjs cannot query. */
export function memoryBudget(backend: Pick<BackendInfo, 'device'>): number {
  if (backend.device === 'gpu') return 4 * 1024 ** 3;
  return Math.min(freemem() * 0.5, 16 * 1024 ** 3);
}

export function trainingWarnings(backend: Pick<BackendInfo, 'name' | 'reason' | 'enableCommand'>): string[] {
  const warnings: string[] = [];
  const enable = backend.enableCommand ? ` Run \`${backend.enableCommand}\` for native TensorFlow.` : '';
  if (backend.name === 'cpu') {
    warnings.push(`Training on the pure-JavaScript backend, which is hundreds of times slower than native TensorFlow: keep models and datasets tiny.${enable}`);
  } else if (backend.name === 'wasm') {
    warnings.push(`Training on the WebAssembly backend, several times slower than native TensorFlow.${enable}`);
  }
  return warnings;
}
