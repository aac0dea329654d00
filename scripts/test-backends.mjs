#!/usr/bin/env node
// `npm run test:backends`: the decoding and training tests that decide results
// run again on the pure-JS (`cpu`) and WebAssembly (`wasm`) backends, which
// the workbench falls back to where native TensorFlow is not built. The plain
// unit run uses native TensorFlow wherever it is set up, so without this a
// kernel a JS backend lacks, or a result it computes differently, would go
// unnoticed. The same tests and tolerances run on every backend.
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const BACKENDS = ['cpu', 'wasm'];
const FILES = [
  'test/unit/model.decoder.test.ts',
  'test/unit/model.fused.test.ts',
  'test/unit/infer.decoding.test.ts',
  'test/unit/infer.gridProjection.test.ts',
  'test/unit/infer.beamSearch.test.ts',
  'test/unit/train.checkpoint.test.ts',
  'test/unit/train.loop.test.ts',
];

const vitest = join(root, 'node_modules', 'vitest', 'vitest.mjs');
for (const backend of BACKENDS) {
  console.log(`\n=== unit tests on CAPTIONER_BACKEND=${backend}`);
  const result = spawnSync(process.execPath, [vitest, 'run', ...FILES], {
    cwd: root,
    stdio: 'inherit',
    env: { ...process.env, CAPTIONER_BACKEND: backend },
  });
  if (result.error) throw result.error;
  if (result.status !== 0) {
    console.error(`test:backends: the tests failed on CAPTIONER_BACKEND=${backend}.`);
    process.exit(result.status ?? 1);
  }
}
