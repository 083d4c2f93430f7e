import { activeCsrPool } from './csrPool';
import { absTopKHost } from './absTopKRows';
import { hostTopKOn } from './hostTopK';
import { tf } from './tfjs';

/**
 * AbsTopK along the last dim: keep the k entries of largest |x| (ties: lower index, which is TF.js
 * topk's own order) and zero the rest.
 *
 * The keep-mask is built from topk indices with scatterND (cpu, wasm, webgl and webgpu all implement both)
 * rather than from a |x| >= k-th-value threshold, which would keep every tied entry. TopK and ScatterNd
 * have no gradients, so the mask is produced by a customGrad op whose gradient is zero: the product
 * x * mask then has the straight-through gradient `dy * mask` of a fixed selection, and tf.grad through the
 * forward pass works on every backend. (customGrad's `save` is avoided on purpose: the kept copy trips
 * TF.js's IS_TEST kernel leak check.) On cpu and wasm the whole of it runs in JS instead (hostTopK.ts), with the
 * same values and gradient.
 */
export function absTopK<T extends tf.Tensor>(x: T, k: number): T {
  const width = x.shape[x.shape.length - 1];
  if (k >= width) return x;
  if (k > 0 && hostTopKOn(tf.getBackend())) return hostAbsTopK(x, k);
  return tf.mul(x, selectionMask(x, k)) as T;
}

/** One pass in JS for the values; the gradient of the fixed selection, dy * mask, from the mask kept on the host
 *  (a host array in the closure, not a saved tensor, so the leak check above stays quiet). */
const hostAbsTopK = <T extends tf.Tensor>(x: T, k: number): T =>
  tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const input = args[0] as tf.Tensor;
    const { values, mask } = hostSelection(input.dataSync() as Float32Array, input.shape[input.shape.length - 1]!, k);
    return { value: tf.tensor(values, input.shape, 'float32'), gradFunc: (dy: tf.Tensor) => tf.mul(dy, tf.tensor(Float32Array.from(mask), input.shape, 'float32')) };
  })(x) as T;

const selectionMask = (x: tf.Tensor, k: number): tf.Tensor =>
  tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const input = args[0] as tf.Tensor;
    return { value: topKMask(input, k), gradFunc: (dy: tf.Tensor) => tf.zerosLike(dy) };
  })(x);

/** The host selection, its rows shared among the cores where the CSR worker pool runs and the input is large enough
 *  (the result is the same either way: rows are independent). */
function hostSelection(x: Float32Array, width: number, k: number): { values: Float32Array; mask: Uint8Array } {
  const pool = activeCsrPool();
  return pool?.takesTopK(x.length, width) ? pool.absTopK(x, width, k) : absTopKHost(x, width, k);
}

/** 1 at the k largest-|x| entries of each row (last dim), 0 elsewhere; same shape as x. On cpu and wasm the mask is
 *  built in JS (hostTopK.ts: the same selection, several times faster there); elsewhere with topk + scatterND. */
export function topKMask(x: tf.Tensor, k: number): tf.Tensor {
  const width = x.shape[x.shape.length - 1];
  if (k > 0 && k < width && hostTopKOn(tf.getBackend())) {
    return tf.tensor(Float32Array.from(hostSelection(x.dataSync() as Float32Array, width, k).mask), x.shape, 'float32');
  }
  return topKMaskOps(x, k);
}

/** topKMask with TF.js ops only (every backend; the GPU backends' path). */
export function topKMaskOps(x: tf.Tensor, k: number): tf.Tensor {
  return tf.tidy(() => {
    const width = x.shape[x.shape.length - 1];
    const rows = x.size / width;
    if (k <= 0) return tf.zerosLike(x);
    const { indices } = tf.topk(tf.abs(tf.reshape(x, [rows, width])), k, false);
    // Flat index row * width + col of every kept entry; scatterND of ones gives the mask.
    const rowStart = tf.reshape(tf.mul(tf.range(0, rows, 1, 'int32'), tf.scalar(width, 'int32')), [rows, 1]);
    const flat = tf.reshape(tf.add(indices, rowStart), [rows * k, 1]);
    // int32 updates: WebGPU scatters with atomics, native for integers but emulated for floats.
    const mask = tf.scatterND(flat, tf.ones([rows * k], 'int32'), [rows * width]);
    return tf.reshape(tf.cast(mask, 'float32'), x.shape);
  });
}
