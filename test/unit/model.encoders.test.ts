import * as tf from '@tensorflow/tfjs';
import { existsSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BackboneEncoder, resolveBackbone } from '../../src/main/ml/model/encoders/backbone';
import { downloadUrl, BACKBONES } from '../../src/main/ml/model/encoders/catalog';
import { verifyDownload } from '../../src/main/ml/model/encoders/download';
import { adaptiveMaxPool, ScratchCnn, tilesOf } from '../../src/main/ml/model/encoders/scratchCnn';
import { Rng } from '../../src/main/ml/model/rng';
import { useTestBackend } from '../helpers/captionModel';
import { saveGraphBackbone, saveLayersBackbone, serveFolders, type FileServer } from '../helpers/backboneModels';

let root: string;
let layersDir: string;
let graphDir: string;
let reference: tf.LayersModel;
let filter: Float32Array;
let server: FileServer;

beforeAll(async () => {
  await useTestBackend();
  root = mkdtempSync(join(tmpdir(), 'backbones-'));
  layersDir = join(root, 'layers');
  reference = await saveLayersBackbone(layersDir);
  graphDir = join(root, 'graph');
  const rng = new Rng(5);
  filter = Float32Array.from({ length: 3 * 3 * 3 * 4 }, () => rng.normal() * 0.3);
  saveGraphBackbone(graphDir, filter);
  server = await serveFolders({ '/models/layers/': layersDir, '/mirror/mobilenet_v2/': layersDir });
});
afterAll(async () => server?.close());

const images = () => tf.randomUniform([2, 8, 8, 3], 0, 1, 'float32', 11) as tf.Tensor4D;

describe('scratch CNN', () => {
  it('gives an 8x smaller grid with 8x the first width, and its maximum as the pooled vector', () => {
    const cnn = new ScratchCnn({ inputSize: 32, channels: 4 }, new Rng(1));
    const { pooled, grid } = cnn.encode(tf.randomUniform([3, 32, 32, 3]) as tf.Tensor4D);
    expect(grid.shape).toEqual([3, 16, 32]);
    expect(pooled.shape).toEqual([3, 32]);
    expect(tf.max(tf.abs(tf.sub(tf.max(grid, 1), pooled))).dataSync()[0]).toBeLessThan(1e-6);
    expect(cnn.spec).toMatchObject({ id: 'scratch-cnn', pooledDim: 32, gridShape: [4, 4, 32] });
    const before = cnn.weightsHash();
    cnn.params.get('conv0/bias').assign(tf.ones([4]));
    expect(cnn.weightsHash()).not.toBe(before);
    expect(() => new ScratchCnn({ inputSize: 30, channels: 4 }, new Rng(1))).toThrow(/multiple of 8/);
  });

  it('scratch CNN with a stem stride of 2: twice the image for the same grid, its first convolution 5×5 at stride 2', () => {
    const strided = new ScratchCnn({ inputSize: 64, channels: 4, stemStride: 2 }, new Rng(1));
    expect(strided.spec).toMatchObject({ inputSize: 64, pooledDim: 32, gridShape: [4, 4, 32] });
    expect(strided.params.get('conv0/kernel').shape).toEqual([5, 5, 3, 4]);
    expect(strided.params.get('conv1/kernel').shape).toEqual([3, 3, 4, 8]);
    expect(() => new ScratchCnn({ inputSize: 56, channels: 4, stemStride: 2 }, new Rng(1))).toThrow(/multiple of 16 .*scratchStemStride 2 \(got 56\)/);
    // The first layer by hand: a 5×5 'same' convolution read at every other pixel (pad 1 before, 2 after at 64 → 32).
    const image = tf.randomUniform([1, 64, 64, 3], 0, 1, 'float32', 9) as tf.Tensor4D;
    const kernel = strided.params.get('conv0/kernel') as tf.Tensor4D;
    const full = tf.conv2d(tf.pad(image, [[0, 0], [1, 2], [1, 2], [0, 0]]), kernel, 1, 'valid');
    const everyOther = tf.stridedSlice(full, [0, 0, 0, 0], [1, 64, 64, 4], [1, 2, 2, 1]);
    const layer = tf.conv2d(image, kernel, 2, 'same');
    expect(layer.shape).toEqual([1, 32, 32, 4]);
    expect(tf.max(tf.abs(tf.sub(layer, everyOther))).dataSync()[0]).toBeLessThan(1e-5);
    // And the encoder is made of it: its grid moves when only the stem's kernel does.
    const before = strided.encode(image).grid;
    strided.params.get('conv0/kernel').assign(tf.mul(kernel, 1.5));
    const after = strided.encode(image).grid;
    expect(tf.max(tf.abs(tf.sub(after, before))).dataSync()[0]).toBeGreaterThan(1e-4);
    tf.dispose([image, full, everyOther, layer, before, after]);
    strided.dispose();
  });

  it('scratch CNN with grid coordinates: every cell carries its x and y after the learned channels', () => {
    const plain = new ScratchCnn({ inputSize: 32, channels: 4 }, new Rng(1));
    const located = new ScratchCnn({ inputSize: 32, channels: 4, coordinates: true }, new Rng(1));
    expect(located.spec).toMatchObject({ pooledDim: 34, gridShape: [4, 4, 34] });
    // Same weights (same seed, same shapes): only the two extra channels differ.
    expect(located.params.entries().map(([name, v]) => [name, v.shape])).toEqual(plain.params.entries().map(([name, v]) => [name, v.shape]));
    const images = tf.randomUniform([2, 32, 32, 3], 0, 1, 'float32', 4) as tf.Tensor4D;
    const a = plain.encode(images);
    const b = located.encode(images);
    expect(b.grid.shape).toEqual([2, 16, 34]);
    expect(tf.max(tf.abs(tf.sub(tf.slice(b.grid, [0, 0, 0], [-1, -1, 32]), a.grid))).dataSync()[0]).toBeLessThan(1e-6);
    const xy = tf.slice(b.grid, [1, 0, 32], [1, -1, 2]).reshape([16, 2]).arraySync() as number[][];
    // Row-major cells of a 4×4 grid: x steps −1, −1/3, 1/3, 1 along a row; y along the rows.
    expect(xy[0]![0]).toBeCloseTo(-1, 6);
    expect(xy[0]![1]).toBeCloseTo(-1, 6);
    expect(xy[1]![0]).toBeCloseTo(-1 / 3, 6);
    expect(xy[3]![0]).toBeCloseTo(1, 6);
    expect(xy[4]![1]).toBeCloseTo(-1 / 3, 6);
    expect(xy[15]).toEqual([1, 1]);
    tf.dispose([images, a.grid, a.pooled, b.grid, b.pooled]);
    plain.dispose();
    located.dispose();
  });

  it('scratch CNN with grid directions: every cell carries what lies left, right, above and below it, then its coordinates', () => {
    const plain = new ScratchCnn({ inputSize: 32, channels: 4 }, new Rng(1));
    const sided = new ScratchCnn({ inputSize: 32, channels: 4, directions: true, coordinates: true }, new Rng(1));
    expect(sided.spec).toMatchObject({ pooledDim: 66, gridShape: [4, 4, 66] });
    const images = tf.randomUniform([2, 32, 32, 3], 0, 1, 'float32', 4) as tf.Tensor4D;
    const a = plain.encode(images);
    const b = sided.encode(images);
    // The convolutions are the plain CNN's (drawn first from the same seed).
    expect(tf.max(tf.abs(tf.sub(tf.slice(b.grid, [0, 0, 0], [-1, -1, 32]), a.grid))).dataSync()[0]).toBeLessThan(1e-6);
    // Each cell's 8 summaries, written out: relu(features · K + b).
    const features = a.grid.arraySync() as number[][][];
    const kernel = sided.params.get('directions/kernel').arraySync() as number[][];
    const bias = sided.params.get('directions/bias').arraySync() as number[];
    const summary = features.map((cells) => cells.map((f) => bias.map((b0, k) => Math.max(0, f.reduce((sum, v, c) => sum + v * kernel[c]![k]!, b0)))));
    const got = b.grid.arraySync() as number[][][];
    const at = (image: number, row: number, col: number) => summary[image]![row * 4 + col]!;
    let checked = 0;
    for (let image = 0; image < 2; image++) {
      for (let row = 0; row < 4; row++) {
        for (let col = 0; col < 4; col++) {
          const cell = got[image]![row * 4 + col]!;
          for (let k = 0; k < 8; k++) {
            // Column means added up over the columns left (right) of the cell; row means over the rows above (below).
            let left = 0, right = 0, above = 0, below = 0;
            for (let c = 0; c < 4; c++) {
              const columnMean = [0, 1, 2, 3].reduce((sum, r) => sum + at(image, r, c)[k]!, 0) / 4;
              if (c < col) left += columnMean;
              if (c > col) right += columnMean;
            }
            for (let r = 0; r < 4; r++) {
              const rowMean = [0, 1, 2, 3].reduce((sum, c) => sum + at(image, r, c)[k]!, 0) / 4;
              if (r < row) above += rowMean;
              if (r > row) below += rowMean;
            }
            expect(cell[32 + k]).toBeCloseTo(left, 4);
            expect(cell[40 + k]).toBeCloseTo(right, 4);
            expect(cell[48 + k]).toBeCloseTo(above, 4);
            expect(cell[56 + k]).toBeCloseTo(below, 4);
            checked += 4;
          }
          // The coordinates come last.
          expect(cell.slice(64)).toEqual([[-1, -1 / 3, 1 / 3, 1][col]!, [-1, -1 / 3, 1 / 3, 1][row]!].map((v) => expect.closeTo(v, 6)));
        }
      }
    }
    expect(checked).toBe(2 * 16 * 32);
    // Something lies on some side of some cell, and the summary learns from the loss.
    expect(Math.max(...got.flat().map((cell) => Math.max(...cell.slice(32, 64))))).toBeGreaterThan(0);
    const { value, grads } = tf.variableGrads(() => tf.sum(tf.square(sided.encode(images, true).grid)) as tf.Scalar, sided.params.entries().map(([, v]) => v));
    const kernelGrad = grads[sided.params.get('directions/kernel').name]!;
    expect(kernelGrad.shape).toEqual([32, 8]);
    expect(tf.max(tf.abs(kernelGrad)).dataSync()[0]).toBeGreaterThan(0);
    tf.dispose([images, a.grid, a.pooled, b.grid, b.pooled, value, ...Object.values(grads)]);
    plain.dispose();
    sided.dispose();
  });

  it('adaptive max pooling takes each bin\'s maximum, its bins overlapping by a cell where the grid does not divide', () => {
    const size = 8;
    const values = Array.from({ length: 2 * size * size * 3 }, (_, i) => Math.sin(i * 12.9898) * 43758.5453 % 1);
    const x = tf.tensor4d(values, [2, size, size, 3]);
    const at = (b: number, r: number, c: number, k: number) => values[((b * size + r) * size + c) * 3 + k]!;
    for (const cells of [3, 4, 8]) {
      const pooled = adaptiveMaxPool(x, cells);
      expect(pooled.shape).toEqual([2, cells, cells, 3]);
      const got = pooled.arraySync();
      const bin = (i: number) => [Math.floor((i * size) / cells), Math.ceil(((i + 1) * size) / cells)] as const;
      for (let b = 0; b < 2; b++) {
        for (let i = 0; i < cells; i++) {
          for (let j = 0; j < cells; j++) {
            for (let k = 0; k < 3; k++) {
              let best = -Infinity;
              const [r0, r1] = bin(i);
              const [c0, c1] = bin(j);
              for (let r = r0; r < r1; r++) for (let c = c0; c < c1; c++) best = Math.max(best, at(b, r, c, k));
              expect(got[b]![i]![j]![k]).toBeCloseTo(best, 6);
            }
          }
        }
      }
      pooled.dispose();
    }
    x.dispose();
    // 8 into 3: the bins are rows 0–2, 2–5 and 5–7, so a peak in row 2 (or 5) reaches two bins, one in row 3 only the middle one.
    const peakAt = (row: number) => {
      const peaked = tf.tidy(() => tf.scatterND([[0, row, 0, 0]], [1], [1, 8, 8, 1]) as tf.Tensor4D);
      const pooled = adaptiveMaxPool(peaked, 3);
      const rows = (pooled.arraySync() as number[][][][])[0]!.map((cells) => cells[0]![0]!);
      tf.dispose([peaked, pooled]);
      return rows;
    };
    expect(peakAt(2)).toEqual([1, 1, 0]);
    expect(peakAt(3)).toEqual([0, 1, 0]);
    expect(peakAt(5)).toEqual([0, 1, 1]);
  });

  it('scratch CNN with grid cells: the convolutions\' grid pooled to the cells asked for, then its directions and coordinates', () => {
    const own = new ScratchCnn({ inputSize: 48, channels: 4, coordinates: true }, new Rng(1));
    const coarse = new ScratchCnn({ inputSize: 48, channels: 4, coordinates: true, directions: true, gridCells: 3 }, new Rng(1));
    expect(own.spec.gridShape).toEqual([6, 6, 34]);
    expect(coarse.spec).toMatchObject({ pooledDim: 66, gridShape: [3, 3, 66] });
    const images = tf.randomUniform([2, 48, 48, 3], 0, 1, 'float32', 4) as tf.Tensor4D;
    const fine = own.encode(images);
    const pooled = coarse.encode(images);
    // Each coarse cell's features are the maximum over its 2×2 block of the fine grid (the same convolutions, drawn first from the same seed).
    const fineCells = fine.grid.arraySync();
    const coarseCells = pooled.grid.arraySync();
    for (let b = 0; b < 2; b++) {
      for (let row = 0; row < 3; row++) {
        for (let col = 0; col < 3; col++) {
          const block = [0, 1].flatMap((dr) => [0, 1].map((dc) => fineCells[b]![(2 * row + dr) * 6 + 2 * col + dc]!));
          const cell = coarseCells[b]![row * 3 + col]!;
          for (let k = 0; k < 32; k++) expect(cell[k]).toBeCloseTo(Math.max(...block.map((f) => f[k]!)), 5);
          // Coordinates of the coarse grid: −1, 0, 1.
          expect(cell.slice(64)).toEqual([[-1, 0, 1][col]!, [-1, 0, 1][row]!].map((v) => expect.closeTo(v, 6)));
        }
      }
    }
    expect(() => new ScratchCnn({ inputSize: 48, channels: 4, gridCells: 7 }, new Rng(1))).toThrow(/scratchGridCells.*6 cells at 48 px.*got 7/);
    tf.dispose([images, fine.grid, fine.pooled, pooled.grid, pooled.pooled]);
    own.dispose();
    coarse.dispose();
  });

  it('tiles come row by row, each the pixels of its own block', () => {
    const image = tf.tidy(() => tf.reshape(tf.range(0, 2 * 4 * 4 * 2), [2, 4, 4, 2]) as tf.Tensor4D);
    const tiles = tilesOf(image, 2);
    expect(tiles.shape).toEqual([8, 2, 2, 2]);
    const pixels = image.arraySync();
    const got = tiles.arraySync();
    for (let b = 0; b < 2; b++) {
      for (let tile = 0; tile < 4; tile++) {
        const [row, col] = [Math.floor(tile / 2), tile % 2];
        for (let r = 0; r < 2; r++) for (let c = 0; c < 2; c++) expect(got[b * 4 + tile]![r]![c]).toEqual(pixels[b]![2 * row + r]![2 * col + c]);
      }
    }
    tf.dispose([image, tiles]);
  });

  it('scratch CNN with separate cells: a cell\'s features depend on its own tile\'s pixels only', () => {
    const apart = new ScratchCnn({ inputSize: 48, channels: 4, gridCells: 3, separateCells: true }, new Rng(1));
    const pooledFromOneGrid = new ScratchCnn({ inputSize: 48, channels: 4, gridCells: 3 }, new Rng(1));
    expect(apart.spec.gridShape).toEqual([3, 3, 32]);
    const before = tf.randomUniform([1, 48, 48, 3], 0, 1, 'float32', 5) as tf.Tensor4D;
    // Repaint the middle tile's first column of pixels (x 16): its neighbour on the left (tile 3) sees it through the convolutions, unless cells are apart.
    const after = tf.tidy(() => before.add(tf.scatterND([[0, 20, 16, 0], [0, 21, 16, 1]], [0.9, -0.9], [1, 48, 48, 3])) as tf.Tensor4D);
    const changedCells = (encoder: ScratchCnn) => {
      const [a, b] = [encoder.encode(before), encoder.encode(after)];
      const [x, y] = [a.grid.arraySync()[0]!, b.grid.arraySync()[0]!];
      tf.dispose([a.grid, a.pooled, b.grid, b.pooled]);
      return x.flatMap((cell, index) => (cell.some((v, k) => Math.abs(v - y[index]![k]!) > 1e-6) ? [index] : []));
    };
    expect(changedCells(apart)).toEqual([4]);
    expect(changedCells(pooledFromOneGrid)).toEqual(expect.arrayContaining([3, 4]));
    expect(() => new ScratchCnn({ inputSize: 48, channels: 4, separateCells: true }, new Rng(1))).toThrow(/scratchSeparateCells needs encoder.scratchGridCells/);
    expect(() => new ScratchCnn({ inputSize: 48, channels: 4, gridCells: 4, separateCells: true }, new Rng(1))).toThrow(/multiple of 8 pixels.*48 px, 4 cells/);
    tf.dispose([before, after]);
    apart.dispose();
    pooledFromOneGrid.dispose();
  });
});

describe('pretrained backbones', () => {
  it('loads a layers model from a folder and takes the grid from a named layer', async () => {
    const encoder = await BackboneEncoder.load(await resolveBackbone(layersDir, { dataDir: root }), { featureLayer: 'conv2' });
    expect(encoder.spec).toMatchObject({ inputSize: 8, pooledDim: 6, gridShape: [4, 4, 6] });
    const x = images();
    const { grid, pooled } = encoder.encode(x);
    const sub = tf.model({ inputs: reference.inputs, outputs: reference.getLayer('conv2').output as tf.SymbolicTensor });
    const expected = tf.reshape(sub.predict(x) as tf.Tensor, [2, 16, 6]);
    expect(tf.max(tf.abs(tf.sub(grid, expected))).dataSync()[0]).toBeLessThan(1e-5);
    expect(pooled.shape).toEqual([2, 6]);
    // Fine-tuning takes the weights of the top layers up to the feature layer.
    expect(encoder.topLayerWeights(1).map(([name]) => name)).toEqual(['conv2/kernel', 'conv2/bias']);
    expect(encoder.topLayerWeights(2)).toHaveLength(4);
    encoder.dispose();
  });

  it('uses the model output as the pooled vector when no layer is named', async () => {
    const encoder = await BackboneEncoder.load(await resolveBackbone(layersDir, { dataDir: root }));
    expect(encoder.spec.pooledDim).toBe(2);
    expect(encoder.hasGrid).toBe(false);
    const x = images();
    expect(tf.max(tf.abs(tf.sub(encoder.encode(x).pooled, reference.predict(x) as tf.Tensor))).dataSync()[0]).toBeLessThan(1e-5);
    await expect(BackboneEncoder.load(await resolveBackbone(layersDir, { dataDir: root }), { featureLayer: 'nope' })).rejects.toThrow(/no layer named "nope"/);
  });

  it('loads a graph model and reads a named node (grid) or the output (pooled)', async () => {
    const x = images();
    const expectedGrid = tf.relu(tf.conv2d(x, tf.tensor4d(filter, [3, 3, 3, 4]), 2, 'same'));
    const gridEncoder = await BackboneEncoder.load(await resolveBackbone(graphDir, { dataDir: root }), { featureLayer: 'conv/Relu' });
    expect(gridEncoder.spec).toMatchObject({ inputSize: 8, pooledDim: 4, gridShape: [4, 4, 4] });
    const { grid } = gridEncoder.encode(x);
    expect(tf.max(tf.abs(tf.sub(grid, tf.reshape(expectedGrid, [2, 16, 4])))).dataSync()[0]).toBeLessThan(1e-5);
    const pooledEncoder = await BackboneEncoder.load(await resolveBackbone(graphDir, { dataDir: root }));
    expect(pooledEncoder.hasGrid).toBe(false);
    expect(tf.max(tf.abs(tf.sub(pooledEncoder.encode(x).pooled, tf.mean(expectedGrid, [1, 2])))).dataSync()[0]).toBeLessThan(1e-5);
    expect(() => pooledEncoder.topLayerWeights(1)).toThrow(/layers-format/);
    gridEncoder.dispose();
    pooledEncoder.dispose();
  });

  it('downloads from a URL once, verifies it, and serves later loads from the cache', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'dl-'));
    const url = `${server.url}/models/layers/model.json`;
    const progress: number[] = [];
    const first = await resolveBackbone(url, { dataDir, onDownload: (p) => progress.push(p.bytesDone) });
    expect(first.folder.dir.startsWith(join(dataDir, 'backbones'))).toBe(true);
    expect(progress.length).toBeGreaterThan(0);
    expect(await verifyDownload(first.folder.dir, url)).toEqual({ ok: true });
    const fetched = server.requests.length;
    const second = await resolveBackbone(url, { dataDir });
    expect(server.requests.length).toBe(fetched);
    expect(second.folder.dir).toBe(first.folder.dir);
    const encoder = await BackboneEncoder.load(second, { featureLayer: 'conv' });
    expect(encoder.spec.gridShape).toEqual([4, 4, 4]);
    encoder.dispose();

    // A damaged cache is noticed and fetched again.
    writeFileSync(join(first.folder.dir, 'weights.bin'), Buffer.from('garbage'));
    const logs: string[] = [];
    await resolveBackbone(url, { dataDir, log: (m) => logs.push(m) });
    expect(server.requests.length).toBeGreaterThan(fetched);
    expect(logs.join()).toMatch(/changed since download/);
    expect(await verifyDownload(first.folder.dir, url)).toEqual({ ok: true });
  });

  it('refuses a download whose weights do not match its manifest, and leaves no half model behind', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'dl-'));
    server.override.set('/models/layers/weights.bin', Buffer.alloc(12));
    try {
      await expect(resolveBackbone(`${server.url}/models/layers/model.json`, { dataDir })).rejects.toThrow(/needs \d+ bytes but its files hold 12/);
    } finally {
      server.override.clear();
    }
    const cached = existsSync(join(dataDir, 'backbones')) ? readdirSync(join(dataDir, 'backbones')) : [];
    expect(cached).toEqual([]);
    await expect(resolveBackbone(`${server.url}/missing/model.json`, { dataDir })).rejects.toThrow(/HTTP 404/);
  });

  it('resolves catalog ids through the mirror, and explains how to get a backbone nobody hosts', async () => {
    expect(downloadUrl(BACKBONES.mobilenet_v2, {})).toMatch(/^https:\/\/tfhub\.dev\//);
    expect(downloadUrl(BACKBONES.densenet201, {})).toBeNull();
    const dataDir = mkdtempSync(join(tmpdir(), 'dl-'));
    process.env.CAPTIONER_BACKBONE_MIRROR = `${server.url}/mirror/`;
    try {
      const resolved = await resolveBackbone('mobilenet_v2', { dataDir });
      expect(resolved.entry?.id).toBe('mobilenet_v2');
      expect(resolved.folder.dir).toBe(join(dataDir, 'backbones', 'mobilenet_v2'));
      const encoder = await BackboneEncoder.load(resolved);
      expect(encoder.spec.id).toBe('mobilenet_v2');
      encoder.dispose();
    } finally {
      delete process.env.CAPTIONER_BACKBONE_MIRROR;
    }
    await expect(resolveBackbone('densenet201', { dataDir })).rejects.toThrow(/tensorflowjs[\s\S]*"relu"/);
    await expect(resolveBackbone(join(root, 'nowhere'), { dataDir })).rejects.toThrow(/not found/);
  });
});
