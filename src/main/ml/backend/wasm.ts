/** The WebAssembly backend, whose .wasm files ship inside its npm package. */
import * as tf from '@tensorflow/tfjs';
import { dirname, join } from 'node:path';
import { ensureTrainingKernels } from './wasmKernels';

export async function loadWasmBackend(): Promise<{ ok: true } | { ok: false; error: string }> {
  try {
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    const distDir = dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm'));
    wasm.setWasmPaths(`${join(distDir)}/`);
    const ok = await tf.setBackend('wasm');
    if (!ok) return { ok: false, error: 'tf.setBackend("wasm") returned false' };
    await tf.ready();
    // Gradients of embedding lookups and convolutions need kernels the wasm
    // package lacks; register them with the backend, not only when a training
    // run starts, so every gradient taken on wasm works.
    ensureTrainingKernels('wasm');
    return { ok: true };
  } catch (error) {
    return { ok: false, error: error instanceof Error ? error.message : String(error) };
  }
}
