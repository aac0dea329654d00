/**
 * Checkpoints: a folder holding everything a run needs to continue exactly
 * or to caption images.
 *
 *   checkpoint.json  format, config, model shapes, vocabulary, training state
 *                    (epoch, step, schedule, early stopping, history), and a
 *                    manifest of the tensors in the two binary files
 *   weights.bin      model weights, float32 little-endian, in manifest order
 *   optimizer.bin    Adam moments (m, then v, per parameter)
 *   trained.bin      with `training.weightAverage` only: the weights the
 *                    optimizer works on (weights.bin then holds their
 *                    average, which captions use); read only to resume
 *
 * Written atomically (lib/checkpoints/folders.ts): into `<name>.tmp-…`,
 * flushed, then renamed into place; an existing checkpoint of the same name
 * is moved aside first and removed after, so a crash at any moment leaves
 * either the old or the new one complete (`readCheckpoint` falls back to the
 * moved-aside copy; recovery on resume and at store open puts it back).
 */
import { existsSync } from 'node:fs';
import { readdir, readFile, rm, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import {
  BEST_CHECKPOINT,
  CHECKPOINT_JSON,
  epochCheckpointName,
  replaceFolder,
  stepCheckpointName,
  writeDurably,
  type CheckpointIoHook,
} from '../../lib/checkpoints/folders';
import type { RunConfig } from '../../../shared/runConfig';
import type { VocabularyJson } from '../../lib/data/text/vocabulary';
import type { DecoderOptions } from '../model/decoder';
import type { SerializedTensor } from '../model/params';
import type { EarlyStoppingState } from './earlyStopping';
import type { OptimizerState } from './optimizer';
import type { PlateauState } from './schedule';

export const CHECKPOINT_FORMAT = 'captioner-checkpoint';
export const CHECKPOINT_VERSION = 1;
const TRAINED_WEIGHTS_FILE = 'trained.bin';

/** One epoch's numbers, as kept in the checkpoint's history. */
export interface EpochRecord {
  epoch: number;
  globalStep: number;
  trainLoss: number;
  valLoss: number;
  bleu4: number;
  ciderD: number;
  learningRate: number;
  seconds: number;
}

/** Where training stands; with the weights and optimizer state this is everything a resume needs. */
export interface TrainingState {
  /** Epochs fully completed (the next epoch to run has this index). */
  epochsCompleted: number;
  /** Steps already done inside the current (incomplete) epoch; 0 at an epoch boundary. */
  stepInEpoch: number;
  globalStep: number;
  /** Running sums of the current epoch's training loss, so the epoch average is unchanged by a stop. */
  epochLossSum: number;
  epochLossCount: number;
  batchSize: number;
  /** Training captions the run iterates over (a resume on changed data cannot be exact). */
  trainCaptions?: number;
  /** Wall-clock seconds of the training loop so far, over every call (`training.maxMinutes` counts them); absent in older checkpoints. */
  trainingSeconds?: number;
  plateau: PlateauState;
  earlyStopping: EarlyStoppingState;
  history: EpochRecord[];
  /**
   * All randomness is a pure function of (seed, epoch, step): the shuffle of
   * an epoch, each step's dropout and sampling seeds. These counters are the
   * whole random state.
   */
  random: { seed: number; epoch: number; step: number };
  /** Set when the run ended (completed or stopped early) at this checkpoint. */
  finished: boolean;
}

export interface EncoderRecord {
  /** `scratch-cnn` or the backbone's id or source. */
  id: string;
  inputSize: number;
  normalization: string;
  /** Scratch CNN width; null for backbones. */
  channels: number | null;
  /** Scratch CNN: its first convolution's stride (absent in older checkpoints: 1). */
  stemStride?: 1 | 2;
  /** Scratch CNN: its grid carries each cell's x and y (absent in older checkpoints: off). */
  coordinates?: boolean;
  /** Scratch CNN: its grid carries what lies left, right, above and below each cell (absent in older checkpoints: off). */
  directions?: boolean;
  /** Scratch CNN: its grid max-pooled to this many cells a side (absent: the convolutions' own grid). */
  gridCells?: number;
  /** Scratch CNN: each of its grid cells convolved alone from its own tile of the image (absent: one grid, pooled). */
  separateCells?: boolean;
  /** Backbone: where it was loaded from and which layer gave the features. */
  source: string | null;
  featureLayer: string | null;
  /** Whether the checkpoint holds the encoder's weights (scratch or fine-tuned). */
  weightsIncluded: boolean;
}

interface TensorEntry {
  name: string;
  shape: number[];
  /** Offset in floats. */
  offset: number;
}

export interface CheckpointJson {
  format: typeof CHECKPOINT_FORMAT;
  version: number;
  createdAt: string;
  backend: string;
  config: RunConfig;
  decoder: DecoderOptions;
  encoder: EncoderRecord;
  vocabulary: VocabularyJson;
  state: TrainingState;
  weights: TensorEntry[];
  /** With a weight average: the manifest of `trained.bin` (absent otherwise, and in older checkpoints). */
  trainedWeights?: TensorEntry[];
  optimizer: { step: number; m: TensorEntry[]; v: TensorEntry[] } | null;
  /** Validation numbers when it was written. */
  metrics: Record<string, number>;
}

export interface CheckpointContents {
  json: Omit<CheckpointJson, 'weights' | 'trainedWeights' | 'optimizer' | 'format' | 'version' | 'createdAt'>;
  /** What captions use: the weights, or their average when the run keeps one. */
  weights: SerializedTensor[];
  /** With a weight average: the weights the optimizer works on. */
  trained?: SerializedTensor[] | null;
  optimizer: OptimizerState | null;
}

export interface LoadedCheckpoint {
  path: string;
  json: CheckpointJson;
  weights: SerializedTensor[];
  /** Read with the optimizer state (to resume); null when the checkpoint has none. */
  trained: SerializedTensor[] | null;
  optimizer: OptimizerState | null;
}

function pack(tensors: readonly SerializedTensor[]): { entries: TensorEntry[]; bytes: Buffer } {
  const total = tensors.reduce((sum, t) => sum + t.data.length, 0);
  const floats = new Float32Array(total);
  const entries: TensorEntry[] = [];
  let offset = 0;
  for (const tensor of tensors) {
    floats.set(tensor.data, offset);
    entries.push({ name: tensor.name, shape: tensor.shape, offset });
    offset += tensor.data.length;
  }
  return { entries, bytes: Buffer.from(floats.buffer, floats.byteOffset, floats.byteLength) };
}

function unpack(entries: readonly TensorEntry[], bytes: Buffer, file: string): SerializedTensor[] {
  if (bytes.byteLength % 4 !== 0) throw new Error(`${file}: size ${bytes.byteLength} is not a whole number of float32 values.`);
  const floats = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
  return entries.map((entry) => {
    const size = entry.shape.reduce((a, b) => a * b, 1);
    if (entry.offset + size > floats.length) throw new Error(`${file}: "${entry.name}" runs past the end of the file (truncated?).`);
    return { name: entry.name, shape: entry.shape, data: floats.slice(entry.offset, entry.offset + size) };
  });
}

/** Writes a checkpoint folder at `path` atomically; returns its size in bytes. */
export async function writeCheckpoint(path: string, contents: CheckpointContents, hook?: CheckpointIoHook): Promise<number> {
  const weights = pack(contents.weights);
  const trained = contents.trained ? pack(contents.trained) : null;
  const moments = contents.optimizer ? pack([...contents.optimizer.m, ...contents.optimizer.v]) : null;
  const mCount = contents.optimizer?.m.length ?? 0;
  const json: CheckpointJson = {
    format: CHECKPOINT_FORMAT,
    version: CHECKPOINT_VERSION,
    createdAt: new Date().toISOString(),
    ...contents.json,
    weights: weights.entries,
    ...(trained ? { trainedWeights: trained.entries } : {}),
    optimizer:
      contents.optimizer && moments
        ? { step: contents.optimizer.step, m: moments.entries.slice(0, mCount), v: moments.entries.slice(mCount) }
        : null,
  };
  await replaceFolder(
    path,
    async (temp) => {
      await writeDurably(join(temp, 'weights.bin'), weights.bytes, hook);
      if (trained) await writeDurably(join(temp, TRAINED_WEIGHTS_FILE), trained.bytes, hook);
      if (moments) await writeDurably(join(temp, 'optimizer.bin'), moments.bytes, hook);
      // The JSON goes last: a folder with checkpoint.json is complete.
      await writeDurably(join(temp, CHECKPOINT_JSON), `${JSON.stringify(json)}\n`, hook);
    },
    hook,
  );
  return folderSize(path);
}

export async function folderSize(path: string): Promise<number> {
  let total = 0;
  for (const name of await readdir(path)) total += (await stat(join(path, name))).size;
  return total;
}

/** Finds the folder to read: the checkpoint itself, or the copy moved aside by an interrupted overwrite. */
async function resolveFolder(path: string): Promise<string> {
  if (existsSync(join(path, 'checkpoint.json'))) return path;
  const parent = dirname(path);
  const prefix = `${basename(path)}.old-`;
  const aside = existsSync(parent) ? (await readdir(parent)).filter((name) => name.startsWith(prefix)).sort() : [];
  const last = aside[aside.length - 1];
  if (last && existsSync(join(parent, last, 'checkpoint.json'))) return join(parent, last);
  throw new Error(`${path}: not a checkpoint (no checkpoint.json).`);
}

/** `optimizer: false` reads only what captioning needs: no optimizer state, no trained weights beside an average. */
export async function readCheckpoint(path: string, options: { optimizer?: boolean } = {}): Promise<LoadedCheckpoint> {
  const folder = await resolveFolder(path);
  const jsonFile = join(folder, 'checkpoint.json');
  let json: CheckpointJson;
  try {
    json = JSON.parse(await readFile(jsonFile, 'utf8')) as CheckpointJson;
  } catch (error) {
    throw new Error(`${jsonFile}: cannot read: ${(error as Error).message}`);
  }
  if (json.format !== CHECKPOINT_FORMAT) throw new Error(`${jsonFile}: format is ${JSON.stringify(json.format)}, expected "${CHECKPOINT_FORMAT}".`);
  if (json.version > CHECKPOINT_VERSION) throw new Error(`${jsonFile}: version ${json.version} is newer than this workbench reads (${CHECKPOINT_VERSION}).`);
  const weightsFile = join(folder, 'weights.bin');
  const weights = unpack(json.weights, await readFile(weightsFile), weightsFile);
  let optimizer: OptimizerState | null = null;
  let trained: SerializedTensor[] | null = null;
  if (options.optimizer !== false && json.trainedWeights) {
    const file = join(folder, TRAINED_WEIGHTS_FILE);
    trained = unpack(json.trainedWeights, await readFile(file), file);
  }
  if (options.optimizer !== false && json.optimizer) {
    const file = join(folder, 'optimizer.bin');
    const moments = unpack([...json.optimizer.m, ...json.optimizer.v], await readFile(file), file);
    optimizer = { step: json.optimizer.step, m: moments.slice(0, json.optimizer.m.length), v: moments.slice(json.optimizer.m.length) };
  }
  return { path: folder, json, weights, trained, optimizer };
}

export { BEST_CHECKPOINT, epochCheckpointName, stepCheckpointName };

/** Removes all but the newest `keep` per-epoch checkpoints in `folder`; returns the removed paths. */
export async function pruneEpochCheckpoints(folder: string, keep: number): Promise<string[]> {
  if (!existsSync(folder)) return [];
  const epochs = (await readdir(folder)).filter((name) => /^epoch-\d+$/.test(name)).sort();
  const removed = epochs.slice(0, Math.max(0, epochs.length - keep)).map((name) => join(folder, name));
  for (const path of removed) await rm(path, { recursive: true, force: true });
  return removed;
}
