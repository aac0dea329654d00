/**
 * Chooses and initializes the tfjs backend for this process, fastest first:
 * TensorFlow with GPU, TensorFlow on CPU, wasm, pure JS. `CAPTIONER_BACKEND`
 * forces one (tests use `cpu`). Runs only inside the engine process.
 */
import * as tf from '@tensorflow/tfjs';
import type { BackendInfo, BackendName } from '../../shared/types';
import { loadNativeBackend, nativeUnavailableInfo } from './backend/native';
import { registerNativeGather } from './backend/nativeGather';
import { loadWasmBackend } from './backend/wasm';

let selected: BackendInfo | null = null;

export function requestedBackend(env: NodeJS.ProcessEnv = process.env): BackendName | null {
  const value = env.CAPTIONER_BACKEND?.trim();
  if (!value) return null;
  if (value === 'tensorflow' || value === 'wasm' || value === 'cpu') return value;
  throw new Error(`CAPTIONER_BACKEND must be one of tensorflow, wasm, cpu (got "${value}").`);
}

export async function initBackend(env: NodeJS.ProcessEnv = process.env): Promise<BackendInfo> {
  if (selected) return selected;
  const forced = requestedBackend(env);

  if (forced === null || forced === 'tensorflow') {
    const native = await loadNativeBackend();
    if (native.ok) {
      registerNativeGather();
      selected = native.info;
      return selected;
    }
    if (forced === 'tensorflow') throw new Error(`CAPTIONER_BACKEND=tensorflow, but ${native.info.reason}`);
    return (selected = await fallback(native.info, forced));
  }
  return (selected = await fallback(nativeUnavailableInfo('it was not requested (CAPTIONER_BACKEND).'), forced));
}

async function fallback(native: BackendInfo, forced: BackendName | null): Promise<BackendInfo> {
  const forcedNote = forced ? ` CAPTIONER_BACKEND=${forced} was set.` : '';
  if (forced === null || forced === 'wasm') {
    const wasm = await loadWasmBackend();
    if (wasm.ok) {
      return {
        ...native,
        name: 'wasm',
        device: 'cpu',
        isFastest: false,
        reason: `Using WebAssembly: ${native.reason}${forcedNote}`,
      };
    }
    if (forced === 'wasm') throw new Error(`CAPTIONER_BACKEND=wasm, but wasm failed: ${wasm.error}`);
  }
  await tf.setBackend('cpu');
  await tf.ready();
  return {
    ...native,
    name: 'cpu',
    device: 'cpu',
    isFastest: false,
    reason: `Using the pure-JS backend (about 300x slower than native TensorFlow): ${native.reason}${forcedNote}`,
  };
}

export function currentBackend(): BackendInfo | null {
  return selected;
}

/** The tfjs version the engine runs. */
export function tfjsVersion(): string {
  return tf.version.tfjs;
}

/** Live tensors in this process: the flat-memory checks read this. */
export function tensorMemory(): { numTensors: number; numBytes: number } {
  const memory = tf.memory();
  return { numTensors: memory.numTensors, numBytes: memory.numBytes };
}
