/**
 * Gradient kernels the WebAssembly backend lacks, so training also runs
 * where native TensorFlow is not built (the wasm backend is the fallback):
 *
 * - UnsortedSegmentSum: the gradient of an embedding lookup (gather).
 * - Conv2DBackpropFilter: the gradient of a convolution's filter (scratch CNN).
 *
 * Both are plain JavaScript over the backend's memory (the way the wasm
 * backend itself runs its few JS kernels). Loading the wasm backend registers
 * them (and the trainer makes sure again); they are registered only for 'wasm'
 * and only if the backend has no kernel of that name.
 */
import * as tf from '@tensorflow/tfjs';

interface WasmLikeBackend {
  readSync(dataId: object): tf.backend_util.BackendValues;
  makeOutput(shape: number[], dtype: tf.DataType, memoryOffset?: number, values?: tf.backend_util.BackendValues): tf.TensorInfo;
}

type KernelArgs = { inputs: Record<string, tf.TensorInfo>; attrs: Record<string, unknown>; backend: WasmLikeBackend };

function unsortedSegmentSum({ inputs, attrs, backend }: KernelArgs): tf.TensorInfo {
  const x = inputs.x!;
  const ids = backend.readSync(inputs.segmentIds!.dataId) as Int32Array;
  const numSegments = attrs.numSegments as number;
  const values = backend.readSync(x.dataId) as Float32Array;
  const inner = x.shape.slice(1).reduce((a, b) => a * b, 1);
  const out = new Float32Array(numSegments * inner);
  for (let row = 0; row < ids.length; row++) {
    const segment = ids[row]!;
    if (segment < 0 || segment >= numSegments) continue;
    const from = row * inner;
    const to = segment * inner;
    for (let i = 0; i < inner; i++) out[to + i] = out[to + i]! + values[from + i]!;
  }
  return backend.makeOutput([numSegments, ...x.shape.slice(1)], x.dtype, undefined, out);
}

function conv2DBackpropFilter({ inputs, attrs, backend }: KernelArgs): tf.TensorInfo {
  const x = inputs.x!;
  const dy = inputs.dy!;
  const filterShape = attrs.filterShape as [number, number, number, number];
  if (attrs.dataFormat === 'NCHW') throw new Error('Conv2DBackpropFilter on wasm supports NHWC only.');
  const info = tf.backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number],
    filterShape,
    attrs.strides as [number, number] | number,
    1,
    attrs.pad as 'same' | 'valid' | number,
    attrs.dimRoundingMode as 'floor' | 'round' | 'ceil' | undefined,
  );
  const xs = backend.readSync(x.dataId) as Float32Array;
  const dys = backend.readSync(dy.dataId) as Float32Array;
  const [kh, kw, channels, outChannels] = filterShape;
  const { batchSize, inHeight, inWidth, outHeight, outWidth, strideHeight, strideWidth } = info;
  const top = info.padInfo.top;
  const left = info.padInfo.left;
  const dw = new Float32Array(kh * kw * channels * outChannels);
  for (let b = 0; b < batchSize; b++) {
    for (let oy = 0; oy < outHeight; oy++) {
      for (let ox = 0; ox < outWidth; ox++) {
        const dyOffset = ((b * outHeight + oy) * outWidth + ox) * outChannels;
        for (let fy = 0; fy < kh; fy++) {
          const iy = oy * strideHeight + fy - top;
          if (iy < 0 || iy >= inHeight) continue;
          for (let fx = 0; fx < kw; fx++) {
            const ix = ox * strideWidth + fx - left;
            if (ix < 0 || ix >= inWidth) continue;
            const xOffset = ((b * inHeight + iy) * inWidth + ix) * channels;
            for (let c = 0; c < channels; c++) {
              const xv = xs[xOffset + c]!;
              if (xv === 0) continue;
              const wOffset = ((fy * kw + fx) * channels + c) * outChannels;
              for (let o = 0; o < outChannels; o++) dw[wOffset + o] = dw[wOffset + o]! + xv * dys[dyOffset + o]!;
            }
          }
        }
      }
    }
  }
  return backend.makeOutput([...filterShape], 'float32', undefined, dw);
}

const KERNELS: Array<[string, (args: KernelArgs) => tf.TensorInfo]> = [
  ['UnsortedSegmentSum', unsortedSegmentSum],
  ['Conv2DBackpropFilter', conv2DBackpropFilter],
];

/** Registers the missing wasm kernels once; a no-op on other backends. */
export function ensureTrainingKernels(backendName: string = tf.getBackend()): void {
  if (backendName !== 'wasm') return;
  for (const [kernelName, kernelFunc] of KERNELS) {
    if (tf.getKernel(kernelName, 'wasm')) continue;
    tf.registerKernel({ kernelName, backendName: 'wasm', kernelFunc: kernelFunc as unknown as tf.KernelFunc });
  }
}
