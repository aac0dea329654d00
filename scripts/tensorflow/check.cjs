// Loads a native build the way the app does and prints one JSON line:
// `node check.cjs <tfjs-node package dir> <app root>`. Runs in a child process
// because a process can hold only one native TensorFlow.
'use strict';
const { readFileSync } = require('node:fs');
const Module = require('node:module');
const { createRequire } = Module;
const { join, sep } = require('node:path');

const [pkgDir, appRoot] = process.argv.slice(2);
const appRequire = createRequire(join(appRoot, 'package.json'));
const pkgRequire = createRequire(join(pkgDir, 'dist', 'index.js'));

function fail(message) {
  process.stdout.write(`${JSON.stringify({ ok: false, error: message })}\n`);
  process.exit(1);
}

// One tfjs-core: the package must resolve @tensorflow/tfjs to the app's copy.
let appTfjs;
try {
  appTfjs = appRequire.resolve('@tensorflow/tfjs');
} catch {
  fail(`@tensorflow/tfjs is not installed in ${appRoot}; run \`npm install\` first`);
}
// Inside the checkout Node's lookup walks up from .native/ to the app's copy.
// A build elsewhere (CAPTIONER_NATIVE_DIR) finds none, and the app's loader
// routes the request (src/main/ml/backend/native.ts); do the same here.
let pkgTfjs = null;
try {
  pkgTfjs = pkgRequire.resolve('@tensorflow/tfjs');
} catch {
  const fromAppTfjs = createRequire(appTfjs);
  const original = Module._resolveFilename;
  Module._resolveFilename = function (request, parent, ...rest) {
    if (/^@tensorflow\/tfjs(?:-core)?(?:\/|$)/.test(request) && parent?.filename?.startsWith(pkgDir + sep)) return fromAppTfjs.resolve(request);
    return original.call(this, request, parent, ...rest);
  };
}
if (pkgTfjs && pkgTfjs !== appTfjs) fail(`${pkgDir} resolves @tensorflow/tfjs to ${pkgTfjs}, not to the app's ${appTfjs}`);

const tf = appRequire('@tensorflow/tfjs');
try {
  require(pkgDir);
} catch (error) {
  fail(`loading ${pkgDir} failed: ${error instanceof Error ? error.message : String(error)}`);
}
if (tf.getBackend() !== 'tensorflow') fail(`the app's tfjs reports backend "${tf.getBackend()}" after loading the binding`);

const product = tf.matMul(tf.tensor2d([[1, 2], [3, 4]]), tf.tensor2d([[5, 6], [7, 8]])).arraySync();
if (JSON.stringify(product) !== '[[19,22],[43,50]]') fail(`a 2x2 matmul returned ${JSON.stringify(product)}`);

// What the dynamic loader actually mapped: the TensorFlow and CUDA libraries in use.
const mapped = [...new Set(readFileSync('/proc/self/maps', 'utf8').split('\n').map((l) => l.split(/\s+/)[5] ?? ''))];
const binding = tf.backend().binding;
process.stdout.write(
  `${JSON.stringify({
    ok: true,
    tensorflowVersion: binding.TF_Version,
    gpu: binding.isUsingGpuDevice(),
    library: mapped.find((p) => /libtensorflow_cc\.so/.test(p)) ?? null,
    cuda: mapped.filter((p) => /\/lib(cudart|cublas|cublasLt|cudnn|cufft|curand|cusolver|cusparse|nccl|nvJitLink|cupti)\b[^/]*\.so/.test(p)),
  })}\n`,
);
