/**
 * Weights in the TensorFlow.js format: a `model.json` whose
 * `weightsManifest` lists float32 tensors by name and shape, and binary
 * shards of at most 4 MiB holding them back to back (what
 * `tf.io.decodeWeights` and every tfjs loader read). The topology beside it
 * is ours to describe: the decoder is written with tfjs ops, not tfjs-layers.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { SerializedTensor } from '../model/params';
import { JsonCursor, JsonInputError, readJsonFile } from '../../lib/eval/jsonInput';

/** tfjs' converter shards weights at 4 MiB; browsers and CDNs cache that size well. */
const SHARD_BYTES = 4 * 1024 * 1024;

export interface WeightSpec {
  name: string;
  shape: number[];
  dtype: 'float32';
}

export interface WeightsModelJson {
  format: string;
  generatedBy: string;
  convertedBy: null;
  modelTopology: unknown;
  weightsManifest: { paths: string[]; weights: WeightSpec[] }[];
}

/** Writes `model.json` and its shards into `dir`; answers the file names written. */
export function writeWeightsModel(
  dir: string,
  tensors: readonly SerializedTensor[],
  meta: { format: string; generatedBy: string; modelTopology: unknown },
): string[] {
  const total = tensors.reduce((sum, tensor) => sum + tensor.data.length * 4, 0);
  const all = new Uint8Array(total);
  let offset = 0;
  for (const tensor of tensors) {
    const expected = tensor.shape.reduce((a, b) => a * b, 1);
    if (expected !== tensor.data.length) {
      throw new Error(`Weight "${tensor.name}" has ${tensor.data.length} values but shape [${tensor.shape}] needs ${expected}.`);
    }
    all.set(new Uint8Array(tensor.data.buffer, tensor.data.byteOffset, tensor.data.byteLength), offset);
    offset += tensor.data.byteLength;
  }
  const shardCount = Math.max(1, Math.ceil(total / SHARD_BYTES));
  const paths: string[] = [];
  for (let shard = 0; shard < shardCount; shard++) {
    const name = `group1-shard${shard + 1}of${shardCount}.bin`;
    writeFileSync(join(dir, name), all.subarray(shard * SHARD_BYTES, Math.min(total, (shard + 1) * SHARD_BYTES)));
    paths.push(name);
  }
  const modelJson: WeightsModelJson = {
    format: meta.format,
    generatedBy: meta.generatedBy,
    convertedBy: null,
    modelTopology: meta.modelTopology,
    weightsManifest: [{ paths, weights: tensors.map((tensor) => ({ name: tensor.name, shape: [...tensor.shape], dtype: 'float32' })) }],
  };
  writeFileSync(join(dir, 'model.json'), `${JSON.stringify(modelJson, null, 1)}\n`);
  return ['model.json', ...paths];
}

/** Reads `dir/model.json` and its shards back into named tensors (float32 only). */
export function readWeightsModel(dir: string, expectedFormat: string): { modelJson: WeightsModelJson; tensors: SerializedTensor[] } {
  const file = join(dir, 'model.json');
  const root = JsonCursor.root(file, readJsonFile(file));
  const format = root.field('format').string();
  if (format !== expectedFormat) root.field('format').fail(`expected "${expectedFormat}", found "${format}".`);
  const specs: WeightSpec[] = [];
  const buffers: Buffer[] = [];
  for (const group of root.field('weightsManifest').items()) {
    for (const path of group.field('paths').items()) {
      const name = path.string();
      if (name.includes('/') || name.includes('\\') || name.startsWith('.')) path.fail('shard paths must be plain file names in the same folder.');
      try {
        buffers.push(readFileSync(join(dir, name)));
      } catch (error) {
        path.fail(`cannot read the shard (${(error as Error).message}).`);
      }
    }
    for (const weight of group.field('weights').items()) {
      const dtype = weight.field('dtype').string();
      if (dtype !== 'float32') weight.field('dtype').fail(`only float32 weights are supported, found "${dtype}".`);
      const shape = weight
        .field('shape')
        .items()
        .map((dim) => {
          if (!Number.isInteger(dim.value) || (dim.value as number) < 0) dim.fail('expected a non-negative integer.');
          return dim.value as number;
        });
      specs.push({ name: weight.field('name').string(), shape, dtype: 'float32' });
    }
  }
  const data = Buffer.concat(buffers);
  const needed = specs.reduce((sum, spec) => sum + spec.shape.reduce((a, b) => a * b, 1) * 4, 0);
  if (data.byteLength !== needed) {
    throw new JsonInputError(file, '$.weightsManifest', `the shards hold ${data.byteLength} bytes but the weights need ${needed}.`);
  }
  let offset = 0;
  const tensors = specs.map((spec) => {
    const count = spec.shape.reduce((a, b) => a * b, 1);
    // Copy out: a Buffer's memory may be shared and is not always 4-byte aligned.
    const values = new Float32Array(count);
    new Uint8Array(values.buffer).set(data.subarray(offset, offset + count * 4));
    offset += count * 4;
    return { name: spec.name, shape: spec.shape, data: values };
  });
  return { modelJson: root.value as WeightsModelJson, tensors };
}
