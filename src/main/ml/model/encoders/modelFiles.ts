/**
 * TensorFlow.js model folders (model.json + weight shards) on the local
 * disk, read and written without tfjs-node: `file://` handlers only exist
 * in tfjs-node, and the engine may be running on wasm or pure JS.
 */
import * as tf from '@tensorflow/tfjs';
import { existsSync, statSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

export type ModelFormat = 'layers' | 'graph';

export interface ModelFolder {
  /** The folder holding model.json and its shards. */
  dir: string;
  /** The model.json file. */
  file: string;
  json: tf.io.ModelJSON;
  format: ModelFormat;
}

/** A folder or a model.json path → the parsed model.json, with errors that name the file. */
export async function readModelFolder(path: string): Promise<ModelFolder> {
  const file = existsSync(path) && statSync(path).isDirectory() ? join(path, 'model.json') : path;
  if (!existsSync(file)) throw new Error(`${file}: not found (a TensorFlow.js model folder holds a model.json).`);
  let json: tf.io.ModelJSON;
  try {
    json = JSON.parse(await readFile(file, 'utf8')) as tf.io.ModelJSON;
  } catch (error) {
    throw new Error(`${file}: not valid JSON: ${(error as Error).message}`);
  }
  checkModelJson(json, file);
  return { dir: dirname(file), file, json, format: modelFormat(json) };
}

export function modelFormat(json: tf.io.ModelJSON): ModelFormat {
  if (json.format === 'graph-model') return 'graph';
  if (json.format === 'layers-model') return 'layers';
  // Older converters leave `format` out: a GraphDef has nodes, a Keras topology a class name.
  const topology = json.modelTopology as { node?: unknown; class_name?: unknown; model_config?: unknown } | undefined;
  return topology && Array.isArray(topology.node) ? 'graph' : 'layers';
}

/** Structural sanity of a model.json: a topology and a weights manifest whose entries make sense. */
export function checkModelJson(json: tf.io.ModelJSON, file: string): void {
  if (typeof json !== 'object' || json === null) throw new Error(`${file}: expected a JSON object.`);
  if (!json.modelTopology || typeof json.modelTopology !== 'object') throw new Error(`${file}: modelTopology is missing.`);
  if (!Array.isArray(json.weightsManifest)) throw new Error(`${file}: weightsManifest is missing or not a list.`);
  json.weightsManifest.forEach((group, g) => {
    if (!Array.isArray(group.paths) || group.paths.length === 0) throw new Error(`${file}: weightsManifest[${g}].paths is empty.`);
    for (const [p, shard] of group.paths.entries()) {
      if (typeof shard !== 'string' || shard.includes('..') || shard.startsWith('/')) {
        throw new Error(`${file}: weightsManifest[${g}].paths[${p}] must be a file name next to model.json (got ${JSON.stringify(shard)}).`);
      }
    }
    if (!Array.isArray(group.weights)) throw new Error(`${file}: weightsManifest[${g}].weights is not a list.`);
    group.weights.forEach((weight, w) => {
      if (typeof weight.name !== 'string' || !Array.isArray(weight.shape) || weight.shape.some((d) => !Number.isInteger(d) || d < 0)) {
        throw new Error(`${file}: weightsManifest[${g}].weights[${w}] needs a name and a shape of non-negative integers.`);
      }
    });
  });
}

const DTYPE_BYTES: Record<string, number> = { float32: 4, int32: 4, bool: 1, uint8: 1, uint16: 2, float16: 2, string: 0 };

/** Bytes the shards of each weight group must hold, from shapes, dtypes and quantization. */
export function expectedGroupBytes(group: tf.io.WeightsManifestConfig[number]): number | null {
  let total = 0;
  for (const weight of group.weights) {
    const dtype = weight.quantization?.dtype ?? weight.dtype;
    const bytes = DTYPE_BYTES[dtype];
    if (bytes === undefined || bytes === 0) return null; // strings have variable size
    total += weight.shape.reduce((a: number, b: number) => a * b, 1) * bytes;
  }
  return total;
}

/** Every shard exists and each group's shards add up to what its weights need. */
export async function checkWeightFiles(folder: ModelFolder): Promise<void> {
  for (const [g, group] of folder.json.weightsManifest.entries()) {
    let actual = 0;
    for (const shard of group.paths) {
      const path = join(folder.dir, shard);
      if (!existsSync(path)) throw new Error(`${folder.file}: weight file ${shard} is missing.`);
      actual += statSync(path).size;
    }
    const expected = expectedGroupBytes(group);
    if (expected !== null && expected !== actual) {
      throw new Error(`${folder.file}: weightsManifest[${g}] needs ${expected} bytes but its files hold ${actual} (truncated or corrupt download?).`);
    }
  }
}

/** A load handler reading a local model folder (for tf.loadLayersModel / tf.loadGraphModel). */
export function folderLoadHandler(folder: ModelFolder): tf.io.IOHandler {
  return {
    load: async () =>
      tf.io.getModelArtifactsForJSON(folder.json, async (manifest) => {
        const buffers: ArrayBuffer[] = [];
        for (const group of manifest) {
          for (const shard of group.paths) {
            const bytes = await readFile(join(folder.dir, shard));
            buffers.push(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer);
          }
        }
        return [tf.io.getWeightSpecs(manifest), tf.io.concatenateArrayBuffers(buffers)];
      }),
  };
}

/** A save handler writing `model.json` and one `weights.bin` into `dir` (model.save without tfjs-node). */
export function folderSaveHandler(dir: string): tf.io.IOHandler {
  return {
    save: async (artifacts: tf.io.ModelArtifacts) => {
      await mkdir(dir, { recursive: true });
      const weightsFile = 'weights.bin';
      const data = artifacts.weightData;
      const bytes = data === undefined ? new ArrayBuffer(0) : Array.isArray(data) ? tf.io.concatenateArrayBuffers(data) : data;
      const manifest: tf.io.WeightsManifestConfig = [{ paths: [weightsFile], weights: artifacts.weightSpecs ?? [] }];
      const json: tf.io.ModelJSON = {
        modelTopology: artifacts.modelTopology as object,
        weightsManifest: manifest,
        ...(artifacts.format ? { format: artifacts.format } : {}),
        ...(artifacts.generatedBy ? { generatedBy: artifacts.generatedBy } : {}),
        ...(artifacts.convertedBy !== undefined ? { convertedBy: artifacts.convertedBy } : {}),
        ...(artifacts.trainingConfig ? { trainingConfig: artifacts.trainingConfig } : {}),
        ...(artifacts.signature ? { signature: artifacts.signature } : {}),
        ...(artifacts.userDefinedMetadata ? { userDefinedMetadata: artifacts.userDefinedMetadata } : {}),
        ...(artifacts.modelInitializer ? { modelInitializer: artifacts.modelInitializer } : {}),
      };
      await writeFile(join(dir, weightsFile), Buffer.from(bytes));
      await writeFile(join(dir, 'model.json'), JSON.stringify(json));
      return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(artifacts) };
    },
  };
}

export const isUrl = (source: string): boolean => /^https?:\/\//i.test(source);
export const folderName = (path: string): string => basename(path);
