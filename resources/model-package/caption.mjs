#!/usr/bin/env node
/**
 * Captions images with this model package, with nothing but
 * @tensorflow/tfjs-node (or @tensorflow/tfjs) and sharp:
 *
 *   npm install @tensorflow/tfjs-node sharp
 *   node caption.mjs photo.jpg other.png [--beam 3] [--greedy] [--max-length 20] [--json]
 *
 * --pure-js uses @tensorflow/tfjs even where @tensorflow/tfjs-node is installed.
 *
 * Everything the model is lives beside this file: config.json (encoder,
 * preprocessing, decoder and decoding settings), vocab.json, decoder/ (the
 * decoder's weights in the TensorFlow.js format) and encoder/. The decoder is
 * written out below with plain tfjs ops from those weights, so this file is
 * also the reference for running the model anywhere else.
 *
 * It can be imported too: `captionImages(files, options)` returns the captions.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const PACKAGE_DIR = dirname(fileURLToPath(import.meta.url));

// Fixed ids of the special tokens (vocab.json lists them first).
const PAD_ID = 0;
const START_ID = 1;
const END_ID = 2;
// The log-probability a banned word gets.
const BANNED = -1e9;

// ─── loading ─────────────────────────────────────────────────────────────────

/**
 * Loads a package from beside this file, else from the current directory's
 * node_modules (so the script also runs from a checkout of the workbench).
 * All three packages it uses load with require() as well as import().
 */
async function importModule(name) {
  try {
    return await import(name);
  } catch (error) {
    if (error?.code !== 'ERR_MODULE_NOT_FOUND') throw error;
    return createRequire(join(process.cwd(), 'package.json'))(name);
  }
}

/**
 * @tensorflow/tfjs-node when it loads (native TensorFlow, fast), else
 * @tensorflow/tfjs (pure JavaScript). `pureJs` asks for the latter, e.g. to
 * compare with another pure-JavaScript run number for number.
 */
export async function loadTf({ quiet = false, pureJs = false } = {}) {
  try {
    if (pureJs) throw new Error('pure JavaScript requested');
    return await importModule('@tensorflow/tfjs-node');
  } catch (error) {
    const tf = await importModule('@tensorflow/tfjs');
    await tf.setBackend('cpu');
    if (!quiet) {
      const reason = String(error?.message ?? error).split('\n')[0];
      process.stderr.write(
        pureJs
          ? 'note: using @tensorflow/tfjs on the CPU (--pure-js).\n'
          : `note: @tensorflow/tfjs-node is not available (${reason}); using @tensorflow/tfjs on the CPU (pure JavaScript, slower).\n`,
      );
    }
    return tf;
  }
}

function readJson(file) {
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new Error(`${file}: ${error.message}`);
  }
}

/** A TensorFlow.js model.json with its weight shards, as the artifacts tfjs loaders take. */
function readArtifacts(modelJsonPath) {
  const modelJson = readJson(modelJsonPath);
  const dir = dirname(modelJsonPath);
  const weightSpecs = [];
  const shards = [];
  for (const group of modelJson.weightsManifest) {
    weightSpecs.push(...group.weights);
    for (const path of group.paths) shards.push(readFileSync(join(dir, path)));
  }
  const all = Buffer.concat(shards);
  const weightData = all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength);
  return { modelJson, weightSpecs, weightData };
}

/** Named tensors of a weights-only model.json. */
export function loadWeights(tf, modelJsonPath) {
  const { modelJson, weightSpecs, weightData } = readArtifacts(modelJsonPath);
  return { topology: modelJson.modelTopology, weights: tf.io.decodeWeights(weightData, weightSpecs) };
}

export async function loadPackage(tf, dir = PACKAGE_DIR) {
  const config = readJson(join(dir, 'config.json'));
  if (config.format !== 'captioner-model-package') throw new Error(`${join(dir, 'config.json')}: not a captioner model package.`);
  const vocab = readJson(join(dir, config.vocabulary.path));
  const decoder = loadWeights(tf, join(dir, config.decoder.path)).weights;
  const encoder = await loadEncoder(tf, dir, config.encoder);
  return {
    tf,
    dir,
    config,
    vocab,
    decoder,
    encoder,
    dispose() {
      tf.dispose(Object.values(decoder));
      encoder.dispose();
    },
  };
}

// ─── images ──────────────────────────────────────────────────────────────────

/** Per channel, value = byte * scale + offset, for each normalization an encoder may expect. */
function affine(normalization) {
  const mean = [0.485, 0.456, 0.406];
  const std = [0.229, 0.224, 0.225];
  switch (normalization) {
    case 'imagenet':
      return { scale: [0, 1, 2].map((c) => 1 / (255 * std[c])), offset: [0, 1, 2].map((c) => -mean[c] / std[c]) };
    case 'minus-one-to-one':
      return { scale: [1 / 127.5, 1 / 127.5, 1 / 127.5], offset: [-1, -1, -1] };
    case 'zero-to-one':
      return { scale: [1 / 255, 1 / 255, 1 / 255], offset: [0, 0, 0] };
    default:
      throw new Error(`Unknown normalization "${normalization}".`);
  }
}

/**
 * An image as config.preprocessing says: EXIF orientation applied, alpha
 * composited onto white, sRGB, resized to the square input (squash or
 * center-crop), normalized. [1, size, size, 3] float32.
 */
export async function imageTensor(tf, sharp, file, preprocessing) {
  const size = preprocessing.inputSize;
  const { data, info } = await sharp(file, { limitInputPixels: preprocessing.maxInputPixels, failOn: 'error', animated: false, pages: 1 })
    .rotate()
    .flatten({ background: '#ffffff' })
    .toColourspace('srgb')
    .resize(size, size, { fit: preprocessing.resize === 'center-crop' ? 'cover' : 'fill', position: 'centre' })
    .removeAlpha()
    .raw({ depth: 'uchar' })
    .toBuffer({ resolveWithObject: true });
  if (info.channels !== 3 || info.width !== size || info.height !== size) {
    throw new Error(`${file}: decoded to ${info.width}x${info.height}x${info.channels}, expected ${size}x${size}x3.`);
  }
  const { scale, offset } = affine(preprocessing.normalization);
  const pixels = new Float32Array(size * size * 3);
  for (let i = 0; i < pixels.length; i += 3) {
    pixels[i] = data[i] * scale[0] + offset[0];
    pixels[i + 1] = data[i + 1] * scale[1] + offset[1];
    pixels[i + 2] = data[i + 2] * scale[2] + offset[2];
  }
  return tf.tensor4d(pixels, [1, size, size, 3]);
}

// ─── encoder ─────────────────────────────────────────────────────────────────

/** What a Keras application expects of its [0, 1] pixels (applied inside the encoder, as in training). */
function fromUnit(tf, x, preprocessing) {
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
      return tf.sub(tf.reverse(tf.mul(x, 255), -1), tf.tensor1d([103.939, 116.779, 123.68]));
    default:
      throw new Error(`Unknown model preprocessing "${preprocessing}".`);
  }
}

/** Features as the decoder reads them: the spatial grid [N, regions, C] and its mean [N, C]. */
function gridAndPooled(tf, out) {
  if (out.rank === 4) {
    const [batch, rows, cols, channels] = out.shape;
    const grid = tf.reshape(out, [batch, rows * cols, channels]);
    return { grid, pooled: tf.mean(grid, 1) };
  }
  return { pooled: out, grid: tf.expandDims(out, 1) };
}

/** [batch, rows, cols, 2]: each cell's x (column) and y (row), -1 at the left/top edge to 1 at the right/bottom. */
function cellCoordinates(tf, batch, rows, cols) {
  const at = (index, count) => (count === 1 ? 0 : (2 * index) / (count - 1) - 1);
  const values = [];
  for (let row = 0; row < rows; row++) for (let col = 0; col < cols; col++) values.push(at(col, cols), at(row, rows));
  return tf.tile(tf.tensor4d(values, [1, rows, cols, 2]), [batch, 1, 1, 1]);
}

/**
 * [batch, n, n, C] -> [batch, cells, cells, C]: the maximum over each bin,
 * bin i covering rows (and columns) floor(i*n/cells) to ceil((i+1)*n/cells),
 * so neighbouring bins share at most a row where cells does not divide n.
 */
function adaptiveMaxPool(tf, x, cells) {
  const size = x.shape[1];
  if (size % cells === 0) return tf.maxPool(x, size / cells, size / cells, 'valid');
  const bins = Array.from({ length: cells }, (_, i) => [Math.floor((i * size) / cells), Math.ceil(((i + 1) * size) / cells)]);
  const alongRows = tf.concat(bins.map(([from, to]) => tf.max(tf.slice(x, [0, from, 0, 0], [-1, to - from, -1, -1]), 1, true)), 1);
  return tf.concat(bins.map(([from, to]) => tf.max(tf.slice(alongRows, [0, 0, from, 0], [-1, -1, to - from, -1]), 2, true)), 2);
}

/** [batch, n, n, C] -> [batch*cells*cells, n/cells, n/cells, C]: the image cut into tiles, row by row (tile i*cells + j is row i, column j). */
function tilesOf(tf, images, cells) {
  const [batch, size, , channels] = images.shape;
  const tile = size / cells;
  const banded = tf.reshape(images, [batch, cells, tile, cells, tile * channels]);
  return tf.reshape(tf.transpose(banded, [0, 1, 3, 2, 4]), [batch * cells * cells, tile, tile, channels]);
}

/**
 * [batch, rows, cols, 32]: what lies left of, right of, above and below each
 * cell. A ReLU 1x1 convolution gives every cell 8 summary channels; their
 * means over each column are added up over the columns before the cell's
 * (left) and after it (right), their means over each row over the rows
 * before (above) and after (below).
 */
function directionSums(tf, x, weights) {
  const [batch, rows, cols] = x.shape;
  const kernel = weights['directions/kernel'];
  const summaries = kernel.shape[1];
  const summary = tf.relu(tf.add(tf.conv2d(x, tf.reshape(kernel, [1, 1, -1, summaries]), 1, 'same'), weights['directions/bias']));
  const perColumn = tf.mean(summary, 1);
  const perRow = tf.mean(summary, 2);
  const alongColumns = (sums) => tf.tile(tf.expandDims(sums, 1), [1, rows, 1, 1]);
  const alongRows = (sums) => tf.tile(tf.expandDims(sums, 2), [1, 1, cols, 1]);
  const sides = [
    alongColumns(tf.cumsum(perColumn, 1, true)),
    alongColumns(tf.cumsum(perColumn, 1, true, true)),
    alongRows(tf.cumsum(perRow, 1, true)),
    alongRows(tf.cumsum(perRow, 1, true, true)),
  ];
  return tf.reshape(tf.concat(sides, 3), [batch, rows, cols, 4 * summaries]);
}

/**
 * The encoder: the scratch CNN (four 3x3 convolutions with ReLU, the first
 * 5x5 at stride 2 when "stemStride" is 2, 2x2
 * max-pooling after the first three, the pooled vector the mean or max of the
 * grid cells as config.json says; with "gridCells", the grid max-pooled to
 * that many cells a side first (with "separateCells", each cell from its own
 * tile of the image convolved alone); with "directions", what lies on each side
 * of a cell appended as 32 channels, then with "coordinates" each cell's x
 * and y from -1 to 1 as two more) written out here from its weights, or a
 * TensorFlow.js layers/graph model loaded from encoder/.
 */
export async function loadEncoder(tf, dir, spec) {
  const modelJsonPath = join(dir, spec.path);
  if (spec.kind === 'scratch-cnn') {
    if (spec.separateCells && !spec.gridCells) throw new Error(`${join(dir, 'config.json')}: encoder.separateCells needs encoder.gridCells (the tiles a side).`);
    const { weights } = loadWeights(tf, modelJsonPath);
    return {
      dispose: () => tf.dispose(Object.values(weights)),
      encode: (images) =>
        tf.tidy(() => {
          const separate = Boolean(spec.separateCells);
          let x = separate ? tilesOf(tf, images, spec.gridCells) : images;
          for (let block = 0; block < spec.blocks; block++) {
            const stride = block === 0 ? (spec.stemStride ?? 1) : 1;
            x = tf.relu(tf.add(tf.conv2d(x, weights[`conv${block}/kernel`], stride, 'same'), weights[`conv${block}/bias`]));
            if (block < spec.blocks - 1) x = tf.maxPool(x, 2, 2, 'valid');
          }
          if (separate) x = tf.reshape(tf.max(x, [1, 2]), [images.shape[0], spec.gridCells, spec.gridCells, -1]);
          else if (spec.gridCells && x.shape[1] !== spec.gridCells) x = adaptiveMaxPool(tf, x, spec.gridCells);
          if (spec.directions) x = tf.concat([x, directionSums(tf, x, weights)], 3);
          if (spec.coordinates) x = tf.concat([x, cellCoordinates(tf, x.shape[0], x.shape[1], x.shape[2])], 3);
          const [batch, rows, cols, channels] = x.shape;
          const grid = tf.reshape(x, [batch, rows * cols, channels]);
          return { grid, pooled: spec.pooling === 'max' ? tf.max(grid, 1) : tf.mean(grid, 1) };
        }),
    };
  }
  const { modelJson, weightSpecs, weightData } = readArtifacts(modelJsonPath);
  const handler = {
    load: async () => ({
      modelTopology: modelJson.modelTopology,
      format: modelJson.format,
      generatedBy: modelJson.generatedBy,
      convertedBy: modelJson.convertedBy,
      signature: modelJson.signature,
      userDefinedMetadata: modelJson.userDefinedMetadata,
      modelInitializer: modelJson.modelInitializer,
      weightSpecs,
      weightData,
    }),
  };
  let run;
  let model;
  if (spec.kind === 'layers') {
    model = await tf.loadLayersModel(handler);
    const layers = model;
    const features = spec.featureLayer ? tf.model({ inputs: layers.inputs, outputs: layers.getLayer(spec.featureLayer).output }) : layers;
    run = (input) => features.apply(input, { training: false });
  } else {
    model = await tf.loadGraphModel(handler);
    const graph = model;
    run = (input) => (spec.featureLayer ? graph.execute(input, spec.featureLayer) : graph.predict(input));
  }
  return {
    dispose: () => model.dispose(),
    encode: (images) => tf.tidy(() => gridAndPooled(tf, run(fromUnit(tf, images, spec.modelPreprocessing)))),
  };
}

// ─── decoder: the forward pass with plain tfjs ops ───────────────────────────
//
// Weights (names as in decoder/model.json):
//   embedding [V, E]; rnnL/kernel [in, G*U], rnnL/recurrent [U, G*U], rnnL/bias [G*U]
//   (GRU also rnnL/recurrentBias); G = 4 for LSTM (gates i f g o), 3 for GRU (z r n).
//   merge:       image/kernel, image/bias, merge/kernel, merge/bias
//   init-inject: init/kernel, init/bias (tanh(image · W) is split into every layer's h and c)
//   attention:   init/*, attention/{gridKernel, bias, stateKernel, score, gateKernel, gateBias,
//                contextKernel, outputKernel}, and attention/wordKernel [E, A] when the word
//                just read joins the attention query (decoder.attentionWordQuery), and
//                wordGlimpse/{queryKernel [kE, A], score [A, 1], outputKernel [C, U]} when a
//                second glimpse, looked for by the last k words alone (k = 2, or
//                decoder.attentionGlimpseWords), joins the deep output
//                (decoder.attentionWordGlimpse), and attention/coverageKernel [1, A] when
//                the attention each region has had so far joins its energy
//                (decoder.attentionCoverage)
//   output/kernel [U, V], output/bias [V]

function cellStep(tf, w, cell, layer, xProj, state) {
  const kernel = (name) => w[`rnn${layer}/${name}`];
  if (cell === 'lstm') {
    const z = tf.add(xProj, tf.matMul(state.h, kernel('recurrent')));
    const [i, f, g, o] = tf.split(z, 4, 1);
    const c = tf.add(tf.mul(tf.sigmoid(f), state.c), tf.mul(tf.sigmoid(i), tf.tanh(g)));
    return { h: tf.mul(tf.sigmoid(o), tf.tanh(c)), c };
  }
  const hProj = tf.add(tf.matMul(state.h, kernel('recurrent')), kernel('recurrentBias'));
  const [xz, xr, xn] = tf.split(xProj, 3, 1);
  const [hz, hr, hn] = tf.split(hProj, 3, 1);
  const z = tf.sigmoid(tf.add(xz, hz));
  const r = tf.sigmoid(tf.add(xr, hr));
  const n = tf.tanh(tf.add(xn, tf.mul(r, hn)));
  return { h: tf.add(n, tf.mul(z, tf.sub(state.h, n))) };
}

const projectInputs = (tf, w, layer, x) => tf.add(tf.matMul(x, w[`rnn${layer}/kernel`]), w[`rnn${layer}/bias`]);

/** tanh(W · image + b), split into [h0, c0, h1, c1] (LSTM) or [h0, h1] (GRU). */
function injectedState(tf, w, d, image) {
  const values = tf.tanh(tf.add(tf.matMul(image, w['init/kernel']), w['init/bias']));
  const perLayer = d.cell === 'lstm' ? 2 : 1;
  const count = d.layers * perLayer;
  const parts = count === 1 ? [values] : tf.split(values, count, 1);
  return Array.from({ length: d.layers }, (_, layer) =>
    perLayer === 2 ? { h: parts[2 * layer], c: parts[2 * layer + 1] } : { h: parts[layer] },
  );
}

/** The state before the first word, one row per image. features: { pooled [N, D] } or { grid [N, L, C] }. */
export function initialState(tf, w, d, features) {
  const pooled = () => features.pooled ?? tf.mean(features.grid, 1);
  if (d.variant === 'attention') {
    const [rows, regions, channels] = features.grid.shape;
    const gridProj = tf.reshape(
      tf.add(tf.matMul(tf.reshape(features.grid, [rows * regions, channels]), w['attention/gridKernel']), w['attention/bias']),
      [rows, regions, d.attentionDim],
    );
    // The words before a step's own, most recent first [rows, (k − 1)·E]; k from the query kernel [kE, A].
    const glimpse = w['wordGlimpse/queryKernel'];
    const previous = glimpse ? { previousWords: tf.zeros([rows, glimpse.shape[0] - d.embeddingDim]) } : {};
    const coverage = w['attention/coverageKernel'] ? { coverage: tf.zeros([rows, regions]) } : {};
    return { layers: injectedState(tf, w, d, tf.mean(features.grid, 1)), grid: features.grid, gridProj, ...previous, ...coverage };
  }
  if (d.variant === 'init-inject') return { layers: injectedState(tf, w, d, pooled()) };
  const image = pooled();
  const rows = image.shape[0];
  const zeros = () => tf.zeros([rows, d.units]);
  return {
    layers: Array.from({ length: d.layers }, () => (d.cell === 'lstm' ? { h: zeros(), c: zeros() } : { h: zeros() })),
    imageProj: tf.relu(tf.add(tf.matMul(image, w['image/kernel']), w['image/bias'])),
  };
}

/** One step for every row: log-probabilities of the next word [rows, V] and the new state. */
export function step(tf, w, d, tokens, state) {
  const embedded = tf.gather(w.embedding, tokens);
  const xProj = projectInputs(tf, w, 0, embedded);
  let input = xProj;
  let gated = null;
  let attention = null;
  if (d.variant === 'attention') {
    const [rows, regions] = state.grid.shape;
    const top = state.layers[state.layers.length - 1].h;
    let query = tf.matMul(top, w['attention/stateKernel']);
    if (w['attention/wordKernel']) query = tf.add(query, tf.matMul(embedded, w['attention/wordKernel']));
    let energyPre = tf.add(state.gridProj, tf.expandDims(query, 1));
    // Coverage: the attention each region has had so far, times its kernel, joins the energy.
    if (state.coverage) energyPre = tf.add(energyPre, tf.mul(tf.expandDims(state.coverage, 2), tf.reshape(w['attention/coverageKernel'], [1, 1, -1])));
    const energy = tf.tanh(energyPre);
    const scores = tf.reshape(tf.matMul(tf.reshape(energy, [rows * regions, d.attentionDim]), w['attention/score']), [rows, regions]);
    attention = tf.softmax(scores);
    const context = tf.reshape(tf.matMul(tf.expandDims(attention, 1), state.grid), [rows, -1]);
    const gate = tf.sigmoid(tf.add(tf.matMul(top, w['attention/gateKernel']), w['attention/gateBias']));
    gated = tf.mul(gate, context);
    input = tf.add(xProj, tf.matMul(gated, w['attention/contextKernel']));
  }
  const layers = [];
  for (let layer = 0; layer < d.layers; layer++) {
    const next = cellStep(tf, w, d.cell, layer, input, state.layers[layer]);
    layers.push(next);
    if (layer + 1 < d.layers) input = projectInputs(tf, w, layer + 1, next.h);
  }
  let hidden = layers[layers.length - 1].h;
  if (d.variant === 'merge') hidden = tf.relu(tf.add(tf.matMul(tf.add(hidden, state.imageProj), w['merge/kernel']), w['merge/bias']));
  if (d.variant === 'attention') hidden = tf.add(hidden, tf.matMul(gated, w['attention/outputKernel']));
  if (state.previousWords) hidden = tf.add(hidden, wordGlimpse(tf, w, d, embedded, state));
  const logits = tf.add(tf.matMul(hidden, w['output/kernel']), w['output/bias']);
  const previous = state.previousWords ? { previousWords: shiftPreviousWords(tf, d, embedded, state.previousWords) } : {};
  const coverage = state.coverage ? { coverage: tf.add(state.coverage, attention) } : {};
  return { logProbs: tf.logSoftmax(logits), state: { ...state, layers, ...previous, ...coverage }, attention };
}

/** The words before the next step's own: this step's word, then the older ones, the oldest dropped. */
function shiftPreviousWords(tf, d, embedded, previous) {
  const kept = previous.shape[1] - d.embeddingDim;
  return kept === 0 ? embedded : tf.concat([embedded, tf.slice(previous, [0, 0], [-1, kept])], 1);
}

/** The second glimpse, looked for by the word read and the ones before it alone, in the deep output [rows, U]. */
function wordGlimpse(tf, w, d, embedded, state) {
  const [rows, regions] = state.grid.shape;
  const query = tf.matMul(tf.concat([embedded, state.previousWords], 1), w['wordGlimpse/queryKernel']);
  const energy = tf.tanh(tf.add(state.gridProj, tf.expandDims(query, 1)));
  const scores = tf.reshape(tf.matMul(tf.reshape(energy, [rows * regions, d.attentionDim]), w['wordGlimpse/score']), [rows, regions]);
  const glimpse = tf.reshape(tf.matMul(tf.expandDims(tf.softmax(scores), 1), state.grid), [rows, -1]);
  return tf.matMul(glimpse, w['wordGlimpse/outputKernel']);
}

/** Rows of a state (beam search follows the beams that survive a step). */
function selectRows(tf, state, rows) {
  const pick = (x) => tf.gather(x, rows);
  return {
    layers: state.layers.map((layer) => (layer.c ? { h: pick(layer.h), c: pick(layer.c) } : { h: pick(layer.h) })),
    ...(state.imageProj ? { imageProj: pick(state.imageProj) } : {}),
    ...(state.grid ? { grid: pick(state.grid), gridProj: pick(state.gridProj) } : {}),
    ...(state.previousWords ? { previousWords: pick(state.previousWords) } : {}),
    ...(state.coverage ? { coverage: pick(state.coverage) } : {}),
  };
}

function stateTensors(state) {
  const out = [];
  for (const layer of state.layers) out.push(layer.h, ...(layer.c ? [layer.c] : []));
  for (const key of ['imageProj', 'grid', 'gridProj', 'previousWords', 'coverage']) if (state[key]) out.push(state[key]);
  return out;
}

// ─── decoding ────────────────────────────────────────────────────────────────

/** Words that would complete an n-gram the caption already holds. */
function repeatedNgramBans(history, n) {
  if (n <= 0 || history.length < n - 1) return [];
  if (n === 1) return [...new Set(history)];
  const prefix = history.slice(history.length - (n - 1)).join(',');
  const banned = new Set();
  for (let start = 0; start + n <= history.length; start++) {
    if (history.slice(start, start + n - 1).join(',') === prefix) banned.add(history[start + n - 1]);
  }
  return [...banned];
}

/** Never <pad> or <start>; no <end> before minLength words; no repeated n-gram; only <end> at maxLength. */
function applyBans(tf, logProbs, histories, wordsSoFar, settings) {
  const [rows, vocab] = logProbs.shape;
  const always = new Float32Array(vocab);
  always[PAD_ID] = BANNED;
  always[START_ID] = BANNED;
  if (wordsSoFar < settings.minLength) always[END_ID] = BANNED;
  let out = tf.add(logProbs, tf.tensor1d(always));
  if (settings.noRepeatNgramSize > 0) {
    const indices = [];
    for (let row = 0; row < rows; row++) {
      for (const word of repeatedNgramBans(histories[row] ?? [], settings.noRepeatNgramSize)) indices.push(row, word);
    }
    if (indices.length > 0) {
      const count = indices.length / 2;
      out = tf.add(out, tf.scatterND(tf.tensor2d(indices, [count, 2], 'int32'), tf.fill([count], BANNED), [rows, vocab]));
    }
  }
  if (wordsSoFar === settings.maxLength) {
    const onlyEnd = new Float32Array(vocab).fill(BANNED);
    onlyEnd[END_ID] = 0;
    out = tf.add(out, tf.tensor1d(onlyEnd));
  }
  return out;
}

/** Greedy decoding of one image: the most likely word at every step. */
function greedy(tf, w, d, features, settings) {
  let state = tf.tidy(() => {
    const s = initialState(tf, w, d, features);
    stateTensors(s).forEach((t) => tf.keep(t));
    return s;
  });
  const tokens = [];
  let previous = START_ID;
  for (let wordsSoFar = 0; wordsSoFar <= settings.maxLength; wordsSoFar++) {
    const old = state;
    const { word, next } = tf.tidy(() => {
      const out = step(tf, w, d, tf.tensor1d([previous], 'int32'), state);
      const banned = applyBans(tf, out.logProbs, [tokens], wordsSoFar, settings);
      stateTensors(out.state).forEach((t) => tf.keep(t));
      return { word: tf.argMax(banned, 1).dataSync()[0], next: out.state };
    });
    releaseUnused(old, next, features);
    state = next;
    if (word === END_ID) break;
    tokens.push(word);
    previous = word;
  }
  releaseUnused(state, null, features);
  return tokens;
}

/** Disposes the tensors of `old` that `next` does not hold; the caller's feature tensors are never disposed here. */
function releaseUnused(old, next, features) {
  const kept = new Set([...(next ? stateTensors(next) : []), ...Object.values(features)]);
  for (const tensor of stateTensors(old)) if (!kept.has(tensor) && !tensor.isDisposed) tensor.dispose();
}

/**
 * Beam search of one image: each step keeps the 2·width best continuations so
 * that `width` live beams remain after setting aside those that end; an <end>
 * counts only from the top `width`; the search stops once `width` captions
 * have ended. The best by Σ log p / length^lengthPenalty wins.
 */
function beam(tf, w, d, features, settings) {
  const width = Math.max(1, Math.floor(settings.beamWidth));
  const vocab = d.vocabSize;
  const candidates = Math.min(2 * width, width * vocab);
  let histories = Array.from({ length: width }, () => []);
  let lengths = new Array(width).fill(0);
  // Only the first beam is live at the start, so the first step does not pick the same word `width` times.
  let scores = Float32Array.from({ length: width }, (_, row) => (row === 0 ? 0 : BANNED));
  const finished = [];
  let state = tf.tidy(() => {
    const s = selectRows(tf, initialState(tf, w, d, features), tf.tensor1d(new Int32Array(width), 'int32'));
    stateTensors(s).forEach((t) => tf.keep(t));
    return s;
  });
  let previous = new Int32Array(width).fill(START_ID);
  for (let wordsSoFar = 0; wordsSoFar <= settings.maxLength && finished.length < width; wordsSoFar++) {
    const { values, indices, next } = tf.tidy(() => {
      const out = step(tf, w, d, tf.tensor1d(previous, 'int32'), state);
      const banned = applyBans(tf, out.logProbs, histories, wordsSoFar, settings);
      const total = tf.add(banned, tf.tensor2d(scores, [width, 1]));
      const best = tf.topk(tf.reshape(total, [1, width * vocab]), candidates, true);
      stateTensors(out.state).forEach((t) => tf.keep(t));
      return { values: best.values.dataSync(), indices: best.indices.dataSync(), next: out.state };
    });
    const source = new Int32Array(width);
    const words = new Int32Array(width).fill(END_ID);
    const nextScores = new Float32Array(width).fill(BANNED);
    const nextHistories = new Array(width);
    const nextLengths = new Array(width).fill(0);
    let live = 0;
    for (let rank = 0; rank < candidates && live < width; rank++) {
      const score = values[rank];
      if (score <= BANNED / 2) break;
      const from = Math.floor(indices[rank] / vocab);
      const word = indices[rank] % vocab;
      if (word === END_ID) {
        if (rank < width) finished.push({ tokens: histories[from], logProb: score, length: lengths[from] + 1 });
        continue;
      }
      source[live] = from;
      words[live] = word;
      nextScores[live] = score;
      nextHistories[live] = [...histories[from], word];
      nextLengths[live] = lengths[from] + 1;
      live += 1;
    }
    for (let row = live; row < width; row++) nextHistories[row] = [];
    const reordered = tf.tidy(() => {
      const s = selectRows(tf, next, tf.tensor1d(source, 'int32'));
      stateTensors(s).forEach((t) => tf.keep(t));
      return s;
    });
    releaseUnused(state, null, features);
    releaseUnused(next, null, features);
    state = reordered;
    previous = words;
    scores = nextScores;
    histories = nextHistories;
    lengths = nextLengths;
  }
  releaseUnused(state, null, features);
  const normalized = (h) => h.logProb / Math.max(1, h.length) ** settings.lengthPenalty;
  let best = null;
  for (const hypothesis of finished) if (!best || normalized(hypothesis) > normalized(best)) best = hypothesis;
  if (!best) throw new Error('Beam search ended without a caption.');
  return best.tokens;
}

/** Word ids to the caption text: <end> stops it, <start> and <pad> are skipped. */
export function wordsOf(vocab, tokens) {
  const words = [];
  for (const id of tokens) {
    if (id === END_ID) break;
    if (id === START_ID || id === PAD_ID) continue;
    words.push(vocab.tokens[id]);
  }
  return words.join(' ');
}

/** Word ids for one image's features ({ pooled [1, D] } or { grid [1, L, C] }); settings override config.decoding. */
export function decodeTokens(model, features, overrides = {}) {
  const { tf, config, decoder } = model;
  const settings = { ...config.decoding, ...overrides };
  const search = settings.strategy === 'beam' && settings.beamWidth > 1 ? beam : greedy;
  return search(tf, decoder, config.decoder, features, settings);
}

/** The caption for one image's features. */
export function decodeFeatures(model, features, overrides = {}) {
  return wordsOf(model.vocab, decodeTokens(model, features, overrides));
}

/** Captions image files: [{ image, caption }]. */
export async function captionImages(files, overrides = {}, { tf: givenTf, sharp: givenSharp, quiet = false, pureJs = false, dir = PACKAGE_DIR } = {}) {
  const tf = givenTf ?? (await loadTf({ quiet, pureJs }));
  const sharpModule = givenSharp ?? (await importModule('sharp'));
  const sharp = sharpModule.default ?? sharpModule;
  const model = await loadPackage(tf, dir);
  const out = [];
  try {
    for (const file of files) {
      const pixels = await imageTensor(tf, sharp, file, model.config.preprocessing);
      const features = model.encoder.encode(pixels);
      pixels.dispose();
      try {
        out.push({ image: file, caption: decodeFeatures(model, features, overrides) });
      } finally {
        for (const tensor of Object.values(features)) tensor.dispose();
      }
    }
  } finally {
    model.dispose();
  }
  return out;
}

// ─── command line ────────────────────────────────────────────────────────────

function parseArgs(argv) {
  const files = [];
  const overrides = {};
  let json = false;
  let pureJs = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = () => {
      const next = Number(argv[++i]);
      if (!Number.isInteger(next) || next < 1) throw new Error(`${arg} needs a positive integer.`);
      return next;
    };
    if (arg === '--json') json = true;
    else if (arg === '--pure-js') pureJs = true;
    else if (arg === '--greedy') overrides.strategy = 'greedy';
    else if (arg === '--beam') Object.assign(overrides, { strategy: 'beam', beamWidth: value() });
    else if (arg === '--max-length') overrides.maxLength = value();
    else if (arg === '--help' || arg === '-h') return { help: true };
    else if (arg.startsWith('--')) throw new Error(`Unknown option ${arg}.`);
    else files.push(resolve(arg));
  }
  return { files, overrides, json, pureJs };
}

async function main() {
  const usage = 'Usage: node caption.mjs IMAGE... [--beam N | --greedy] [--max-length N] [--json] [--pure-js]\n';
  let args;
  try {
    args = parseArgs(process.argv.slice(2));
  } catch (error) {
    process.stderr.write(`${error.message}\n${usage}`);
    return 2;
  }
  if (args.help || args.files.length === 0) {
    process.stdout.write(usage);
    return args.help ? 0 : 2;
  }
  const results = await captionImages(args.files, args.overrides, { pureJs: args.pureJs });
  for (const result of results) {
    process.stdout.write(args.json ? `${JSON.stringify(result)}\n` : `${result.image}\t${result.caption}\n`);
  }
  return 0;
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  main().then(
    (code) => (process.exitCode = code),
    (error) => {
      process.stderr.write(`caption.mjs: ${error?.message ?? error}\n`);
      process.exitCode = 1;
    },
  );
}
