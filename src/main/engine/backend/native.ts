/**
 * Loads the native TensorFlow backend (tfjs-node-gpu or tfjs-node) when it
 * has been built by `npm run setup:tensorflow`.
 */
import * as tf from '@tensorflow/tfjs';
import type { BackendInfo } from '../../../shared/types';

export type NativeLoad = { ok: true; info: BackendInfo } | { ok: false; info: BackendInfo };

export function nativeUnavailableInfo(reason: string): BackendInfo {
  return {
    name: 'cpu',
    device: 'cpu',
    tensorflowVersion: null,
    libraryPath: null,
    cudaLibraries: [],
    isFastest: false,
    reason: `native TensorFlow is not available: ${reason}`,
    enableCommand: 'npm run setup:tensorflow',
  };
}

export async function loadNativeBackend(): Promise<NativeLoad> {
  for (const pkg of ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node']) {
    try {
      await import(pkg);
      if (tf.getBackend() !== 'tensorflow') await tf.setBackend('tensorflow');
      await tf.ready();
      return {
        ok: true,
        info: {
          name: 'tensorflow',
          device: pkg.endsWith('-gpu') ? 'gpu' : 'cpu',
          tensorflowVersion: tf.version.tfjs ?? null,
          libraryPath: require.resolve(pkg),
          cudaLibraries: [],
          isFastest: true,
          reason: `Using native TensorFlow from ${pkg}.`,
          enableCommand: null,
        },
      };
    } catch {
      // Not installed or not built: try the next one.
    }
  }
  return { ok: false, info: nativeUnavailableInfo('the binding is not built.') };
}
