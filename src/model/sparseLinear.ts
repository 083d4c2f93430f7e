import { activeCsrPool } from './csrPool';
import { linear } from './layers';
import type { SparseMatrix } from './sparseMatrix';
import { tf } from './tfjs';
import { webgpuSparseMatMul, type RowRange } from './webgpuSparse';

/**
 * `x @ W^T (+ b)` for a linear weight kept sparse on the host (SparseMatrix), as a TF.js op, differentiable w.r.t. x
 * (dx = dy @ W), so it works inside tf.tidy and tf.grad like the dense `linear`. With `rows`, only those output rows
 * of W (the q, k or v block of c_attn), each output the same sum as in the whole product.
 *
 * Kernels:
 * - 'csr' (cpu, wasm): x is read back synchronously (dataSync), multiplied in plain JS skipping zero weights and zero
 *   activations, and the result becomes a new tensor; the gradient is the matching sparse gather (tf.customGrad).
 *   Where a CSR worker pool is active (csrPool.ts: a cross-origin isolated page's worker, or Node), the product is
 *   shared among all the cores, with the same result bit for bit.
 * - 'webgpu-csr' (webgpu): a WGSL program over W's compressed arrays, uploaded to the GPU once per matrix and kept
 *   with the model (src/model/webgpuSparse.ts); nothing is read back.
 * - 'densify': expands W to a dense [in, out] tensor for each call and runs the backend's matMul (one dense matrix
 *   alive at a time). WebGPU used it before it had its own kernel ('csr''s synchronous read-back goes through a
 *   canvas there and was seen to lose the GPU device on SwiftShader); still selectable.
 */
export type SparseKernel = 'csr' | 'densify' | 'webgpu-csr';

export const SPARSE_KERNELS: readonly SparseKernel[] = ['csr', 'densify', 'webgpu-csr'];

/** The kernel a backend uses unless told otherwise. */
export function defaultSparseKernel(backend: string): SparseKernel {
  return backend === 'webgpu' ? 'webgpu-csr' : 'csr';
}

/** Row blocks cut on the host once per matrix (an edited copy is a new matrix), for the host-side kernels. */
const rowBlocks = new WeakMap<SparseMatrix, Map<string, SparseMatrix>>();

function rowBlock(W: SparseMatrix, rows: RowRange): SparseMatrix {
  let byRange = rowBlocks.get(W);
  if (!byRange) rowBlocks.set(W, (byRange = new Map()));
  const key = `${rows.start}:${rows.count}`;
  let b = byRange.get(key);
  if (!b) byRange.set(key, (b = W.rowBlock(rows.start, rows.count)));
  return b;
}

export function sparseLinear(x: tf.Tensor3D, W: SparseMatrix, b?: tf.Tensor, kernel: SparseKernel = 'csr', rows?: RowRange): tf.Tensor3D {
  const [B, T, n] = x.shape;
  if (n !== W.cols) throw new Error(`sparse linear: input width ${n} does not match the weight's ${W.cols} columns`);
  const m = B * T;
  const out = rows ? rows.count : W.rows;
  if (kernel === 'webgpu-csr') {
    return tf.tidy(() => {
      const y = tf.reshape(webgpuSparseMatMul(tf.reshape(x, [m, n]), W, rows), [B, T, out]) as tf.Tensor3D;
      return b ? (tf.add(y, b) as tf.Tensor3D) : y;
    });
  }
  const pool = kernel === 'csr' ? activeCsrPool() : null;
  if (pool?.accepts(W)) {
    // The pool takes the row range as it is: no row-block copy of W.
    const range = rows ?? { start: 0, count: W.rows };
    const pooled = tf.customGrad((...inputs) => ({
      value: tf.tensor3d(pool.matmul(W, (inputs[0] as tf.Tensor).dataSync() as Float32Array, m, range), [B, T, out]),
      gradFunc: (dy: tf.Tensor) => tf.tensor3d(pool.matmulTransposed(W, dy.dataSync() as Float32Array, m, range), [B, T, n]),
    }));
    const y = pooled(x) as tf.Tensor3D;
    return b ? (tf.add(y, b) as tf.Tensor3D) : y;
  }
  const S = rows ? rowBlock(W, rows) : W;
  if (kernel === 'densify') {
    return tf.tidy(() => linear(x, tf.tensor2d(S.toDenseTransposed(), [S.cols, S.rows]), b));
  }
  const op = tf.customGrad((...inputs) => ({
    value: tf.tensor3d(S.matmul((inputs[0] as tf.Tensor).dataSync() as Float32Array, m), [B, T, out]),
    gradFunc: (dy: tf.Tensor) => tf.tensor3d(S.matmulTransposed(dy.dataSync() as Float32Array, m), [B, T, n]),
  }));
  const y = op(x) as tf.Tensor3D;
  return b ? (tf.add(y, b) as tf.Tensor3D) : y;
}
