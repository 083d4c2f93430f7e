import { linear } from './layers';
import type { SparseMatrix } from './sparseMatrix';
import { tf } from './tfjs';

/**
 * `x @ W^T (+ b)` for a linear weight kept sparse on the host (SparseMatrix), as a TF.js op: x is read back
 * synchronously (dataSync: immediate on cpu and wasm, a GPU sync on webgl/webgpu), multiplied in plain JS skipping
 * zero weights and zero activations, and the result becomes a new tensor. Differentiable w.r.t. x (tf.customGrad:
 * dx = dy @ W, the matching sparse gather), so it works inside tf.tidy and tf.grad like the dense `linear`.
 *
 * Kernels: 'csr' (the JS kernel above) and 'densify', which expands W to a dense [in, out] tensor for each call and
 * runs the backend's matMul (one dense matrix alive at a time). WebGPU uses 'densify': its synchronous read-back
 * (needed by 'csr') goes through a canvas and was seen to lose the GPU device (Chromium, SwiftShader).
 */
export type SparseKernel = 'csr' | 'densify';

/** The kernel a backend uses unless told otherwise. */
export function defaultSparseKernel(backend: string): SparseKernel {
  return backend === 'webgpu' ? 'densify' : 'csr';
}

export function sparseLinear(x: tf.Tensor3D, W: SparseMatrix, b?: tf.Tensor, kernel: SparseKernel = 'csr'): tf.Tensor3D {
  const [B, T, n] = x.shape;
  if (n !== W.cols) throw new Error(`sparse linear: input width ${n} does not match the weight's ${W.cols} columns`);
  if (kernel === 'densify') {
    return tf.tidy(() => linear(x, tf.tensor2d(W.toDenseTransposed(), [W.cols, W.rows]), b));
  }
  const m = B * T;
  const op = tf.customGrad((...inputs) => ({
    value: tf.tensor3d(W.matmul((inputs[0] as tf.Tensor).dataSync() as Float32Array, m), [B, T, W.rows]),
    gradFunc: (dy: tf.Tensor) => tf.tensor3d(W.matmulTransposed(dy.dataSync() as Float32Array, m), [B, T, n]),
  }));
  const y = op(x) as tf.Tensor3D;
  return b ? (tf.add(y, b) as tf.Tensor3D) : y;
}
