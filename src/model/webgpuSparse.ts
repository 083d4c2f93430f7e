import type { WebGPUBackend, WebGPUProgram } from '@tensorflow/tfjs-backend-webgpu';
import type { CompressedLines, SparseMatrix } from './sparseMatrix';
import { tf } from './tfjs';

/**
 * Sparse (CSR weight) x dense (activations) products on TF.js's WebGPU backend, for linear weights kept sparse
 * (SparseMatrix). A matrix's compressed arrays are uploaded once, on first use, as tensors on the webgpu backend and
 * kept until releaseWebGpuCopies: a call moves only activations, never weights, and reads nothing back to the host.
 *
 * One WGSL program serves both directions: y[t, l] = sum over line l's entries p of vals[p] * x[t, idx[p]]. With the
 * lines being W's rows (CSR of W) it is y = x @ W^T; with them being W's columns (CSC of W, which is how SparseMatrix
 * stores it) it is dx = dy @ W, the gradient w.r.t. x. Each invocation computes one output by walking its line, so
 * there are no atomics and the sum runs in a fixed order (increasing column, or row), the same on every run.
 *
 * Only the type imports below name the webgpu package: Node code (tests, CLIs) imports this file without it.
 */

/** The kernel's name in TF.js's registry (registered on the webgpu backend on first use). */
export const SPARSE_GATHER_KERNEL = 'SparseLineGather';

/** Output rows [start, start + count) of W only: the q, k or v block of c_attn. */
export interface RowRange {
  start: number;
  count: number;
}

class LineGatherProgram implements WebGPUProgram {
  // `ptr` is a WGSL keyword, hence the longer names.
  variableNames = ['x', 'linePtr', 'lineIdx', 'lineVals'];
  workgroupSize: [number, number, number] = [64, 1, 1];
  size = true;
  outputShape: number[];
  dispatchLayout: { x: number[] };
  dispatch: [number, number, number];
  shaderKey = 'sparseLineGather';

  constructor(m: number, lines: number) {
    this.outputShape = [m, lines];
    // One invocation per output element; the backend spreads more than 65,535 workgroups over y and z.
    this.dispatchLayout = { x: [0, 1] };
    this.dispatch = [Math.ceil((m * lines) / this.workgroupSize[0]), 1, 1];
  }

  getUserCode(): string {
    // Sizes come from the uniforms TF.js fills in (xShape, outShape, size), so one compiled pipeline serves every
    // matrix and batch size.
    return `
      fn main(index : i32) {
        if (index < uniforms.size) {
          let lines = uniforms.outShape.y;
          let t = index / lines;
          let l = index - t * lines;
          let xRow = t * uniforms.xShape.y;
          let end = linePtr[l + 1];
          var sum = 0.0;
          for (var p = linePtr[l]; p < end; p = p + 1) {
            sum = sum + lineVals[p] * x[xRow + lineIdx[p]];
          }
          setOutputAtIndex(index, sum);
        }
      }
    `;
  }
}

function registerOnce(): void {
  if (tf.getKernel(SPARSE_GATHER_KERNEL, 'webgpu')) return;
  tf.registerKernel({
    kernelName: SPARSE_GATHER_KERNEL,
    backendName: 'webgpu',
    kernelFunc: ({ inputs, backend }) => {
      const { x, linePtr, lineIdx, lineVals } = inputs as Record<string, tf.TensorInfo>;
      const program = new LineGatherProgram(x!.shape[0]!, linePtr!.shape[0]! - 1);
      return (backend as WebGPUBackend).runWebGPUProgram(program, [x!, linePtr!, lineIdx!, lineVals!], 'float32');
    },
  });
}

interface LinesOnGpu {
  linePtr: tf.Tensor1D;
  lineIdx: tf.Tensor1D;
  lineVals: tf.Tensor1D;
}

/** Uploads of each matrix, by direction and row range; the key of the matrix is the one the model holds. */
const uploads = new WeakMap<SparseMatrix, Map<string, LinesOnGpu>>();

function upload(lines: CompressedLines): LinesOnGpu {
  // A matrix without entries still binds one (never read) entry: WebGPU has no zero-sized buffers to bind.
  const some = <T extends Int32Array | Float32Array>(a: T, empty: T) => (a.length > 0 ? a : empty);
  return {
    linePtr: tf.keep(tf.tensor1d(lines.ptr, 'int32')),
    lineIdx: tf.keep(tf.tensor1d(some(lines.idx, new Int32Array(1)), 'int32')),
    lineVals: tf.keep(tf.tensor1d(some(lines.vals, new Float32Array(1)), 'float32')),
  };
}

function onGpu(W: SparseMatrix, direction: 'byOutput' | 'byInput', rows?: RowRange): LinesOnGpu {
  let byKey = uploads.get(W);
  if (!byKey) uploads.set(W, (byKey = new Map()));
  const key = rows ? `${direction}:${rows.start}:${rows.count}` : direction;
  let u = byKey.get(key);
  if (!u || u.linePtr.isDisposed) {
    const block = rows ? W.rowBlock(rows.start, rows.count) : W;
    byKey.set(key, (u = upload(direction === 'byOutput' ? block.byOutput() : block.byInput())));
  }
  return u;
}

function gather(x: tf.Tensor2D, lines: LinesOnGpu): tf.Tensor2D {
  return tf.engine().runKernel(SPARSE_GATHER_KERNEL, { x, ...lines }, {}) as tf.Tensor2D;
}

/**
 * x [m, in] @ W^T (rows: only those output rows) on the webgpu backend, differentiable w.r.t. x (tf.customGrad; the
 * gradient uploads W's column-wise copy on first use, so inference alone holds one copy).
 */
export function webgpuSparseMatMul(x: tf.Tensor2D, W: SparseMatrix, rows?: RowRange): tf.Tensor2D {
  if (tf.getBackend() !== 'webgpu') throw new Error(`the webgpu-csr sparse kernel runs on the webgpu backend only; the active backend is ${tf.getBackend()}`);
  if (x.shape[1] !== W.cols) throw new Error(`sparse matmul: x has ${x.shape[1]} columns, the weight ${W.cols}`);
  if (x.dtype !== 'float32') throw new Error(`sparse matmul: x must be float32, got ${x.dtype}`);
  registerOnce();
  const op = tf.customGrad((...inputs) => ({
    value: gather(inputs[0] as tf.Tensor2D, onGpu(W, 'byOutput', rows)),
    gradFunc: (dy: tf.Tensor) => gather(dy as tf.Tensor2D, onGpu(W, 'byInput', rows)),
  }));
  return op(x) as tf.Tensor2D;
}

/** Frees the GPU copies of W (a later call uploads them again); called when the model holding W lets it go. */
export function releaseWebGpuCopies(W: SparseMatrix): void {
  const byKey = uploads.get(W);
  if (!byKey) return;
  for (const u of byKey.values()) for (const t of [u.linePtr, u.lineIdx, u.lineVals]) t.dispose();
  uploads.delete(W);
}
