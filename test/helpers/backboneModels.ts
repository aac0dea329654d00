/**
 * Small backbones the encoder tests build and save in both TensorFlow.js
 * formats, and a local HTTP server to serve them (the download path).
 *
 * The graph model is a hand-written GraphDef in tfjs-converter's JSON form
 * (what `tensorflowjs_converter` writes for a SavedModel): Placeholder →
 * Conv2D (stride 2, SAME) → Relu → Mean over H and W. Producing one from
 * Python is not possible here, and the format is plain JSON plus a weights
 * file, so the test writes it directly.
 */
import * as tf from '@tensorflow/tfjs';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { folderSaveHandler } from '../../src/main/ml/model/encoders/modelFiles';

/** A layers model: conv (named `conv`, stride 2) → global average pool → dense; saved to `dir`. */
export async function saveLayersBackbone(dir: string, inputSize = 8, seed = 3): Promise<tf.LayersModel> {
  const model = tf.sequential({
    layers: [
      tf.layers.conv2d({ name: 'conv', filters: 4, kernelSize: 3, strides: 2, padding: 'same', activation: 'relu', inputShape: [inputSize, inputSize, 3], kernelInitializer: tf.initializers.glorotUniform({ seed }) }),
      tf.layers.conv2d({ name: 'conv2', filters: 6, kernelSize: 3, padding: 'same', activation: 'relu', kernelInitializer: tf.initializers.glorotUniform({ seed: seed + 1 }) }),
      tf.layers.globalAveragePooling2d({ name: 'pool' }),
      tf.layers.dense({ name: 'logits', units: 2, kernelInitializer: tf.initializers.glorotUniform({ seed: seed + 2 }) }),
    ],
  });
  await model.save(folderSaveHandler(dir));
  return model;
}

const b64 = (text: string) => Buffer.from(text).toString('base64');
const dims = (shape: number[]) => ({ dim: shape.map((size) => ({ size: String(size) })) });

/** The graph model described above, with filter values `filter` ([3, 3, 3, 4] row-major); saved to `dir`. */
export function saveGraphBackbone(dir: string, filter: Float32Array, inputSize = 8): void {
  mkdirSync(dir, { recursive: true });
  const modelJson = {
    format: 'graph-model',
    generatedBy: 'captioner tests',
    convertedBy: 'hand-written',
    modelTopology: {
      node: [
        { name: 'images', op: 'Placeholder', attr: { dtype: { type: 'DT_FLOAT' }, shape: { shape: dims([-1, inputSize, inputSize, 3]) } } },
        { name: 'conv/filter', op: 'Const', attr: { dtype: { type: 'DT_FLOAT' }, value: { tensor: { dtype: 'DT_FLOAT', tensorShape: dims([3, 3, 3, 4]) } } } },
        {
          name: 'conv/Conv2D',
          op: 'Conv2D',
          input: ['images', 'conv/filter'],
          attr: {
            T: { type: 'DT_FLOAT' },
            strides: { list: { i: ['1', '2', '2', '1'] } },
            padding: { s: b64('SAME') },
            data_format: { s: b64('NHWC') },
            dilations: { list: { i: ['1', '1', '1', '1'] } },
          },
        },
        { name: 'conv/Relu', op: 'Relu', input: ['conv/Conv2D'], attr: { T: { type: 'DT_FLOAT' } } },
        { name: 'pool/axes', op: 'Const', attr: { dtype: { type: 'DT_INT32' }, value: { tensor: { dtype: 'DT_INT32', tensorShape: dims([2]) } } } },
        { name: 'pool/Mean', op: 'Mean', input: ['conv/Relu', 'pool/axes'], attr: { T: { type: 'DT_FLOAT' }, Tidx: { type: 'DT_INT32' }, keep_dims: { b: false } } },
      ],
      library: {},
      versions: { producer: 1 },
    },
    weightsManifest: [
      {
        paths: ['group1-shard1of1.bin'],
        weights: [
          { name: 'conv/filter', shape: [3, 3, 3, 4], dtype: 'float32' },
          { name: 'pool/axes', shape: [2], dtype: 'int32' },
        ],
      },
    ],
  };
  const weights = Buffer.concat([Buffer.from(filter.buffer, filter.byteOffset, filter.byteLength), Buffer.from(Int32Array.from([1, 2]).buffer)]);
  writeFileSync(join(dir, 'group1-shard1of1.bin'), weights);
  writeFileSync(join(dir, 'model.json'), JSON.stringify(modelJson));
}

export interface FileServer {
  url: string;
  requests: string[];
  /** Replace what a path serves (e.g. a truncated shard). */
  override: Map<string, Buffer>;
  close(): Promise<void>;
}

/** Serves `routes` (URL prefix → folder) on 127.0.0.1 and records every request path. */
export async function serveFolders(routes: Record<string, string>): Promise<FileServer> {
  const requests: string[] = [];
  const override = new Map<string, Buffer>();
  const server: Server = createServer((request, response) => {
    const path = new URL(request.url ?? '/', 'http://x').pathname;
    requests.push(path);
    const body = override.get(path) ?? read(routes, path);
    if (!body) {
      response.writeHead(404).end('not found');
      return;
    }
    response.writeHead(200, { 'content-length': body.length }).end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    override,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

function read(routes: Record<string, string>, path: string): Buffer | null {
  for (const [prefix, dir] of Object.entries(routes)) {
    if (!path.startsWith(prefix)) continue;
    try {
      return readFileSync(join(dir, path.slice(prefix.length)));
    } catch {
      return null;
    }
  }
  return null;
}
