import { sharedCopy, sharedFloat32, sharedInt32 } from './sharedArrays';

/** A compressed matrix by lines: line l's entries are [ptr[l], ptr[l+1]), at positions idx with values vals. */
export interface CompressedLines {
  readonly ptr: Int32Array;
  readonly idx: Int32Array;
  readonly vals: Float32Array;
}

/**
 * A weight-sparse Linear weight `W [out, in]` held on the host in compressed form, for models whose dense weights
 * would not fit (src/model/memoryEstimate.ts). Stored as CSR of W^T: for each input channel i, the output channels
 * o with W[o, i] != 0 and their values. `y = x @ W^T` then visits, per row of x, only the nonzero x[t, i] (AbsTopK
 * makes most of them zero) and scatters x[t, i] * W[:, i] into y[t, :]; `dx = dy @ W` is the matching gather.
 * Plain TypedArrays, no TF.js: usable in workers, tests and CLIs. The three arrays are allocated in shared memory where
 * the context allows it (sharedArrays.ts), so the CSR worker pool (csrPool.ts) reads them in place.
 */
export class SparseMatrix {
  private constructor(
    /** Dense shape [out, in]. */
    readonly rows: number,
    readonly cols: number,
    /** CSR of W^T: entries of input channel i are [colPtr[i], colPtr[i+1]). */
    private readonly colPtr: Int32Array,
    private readonly outIdx: Int32Array,
    private readonly vals: Float32Array,
  ) {}

  /**
   * From the compact encoding of docs/model-folder.md: flat row-major indices into [rows, cols] (strictly increasing,
   * already validated by the loader) and their values.
   */
  static fromCompact(shape: readonly number[], indices: Int32Array, values: Float32Array): SparseMatrix {
    if (shape.length !== 2) throw new Error(`a sparse Linear weight must be 2-D, got [${shape.join(',')}]`);
    const [rows, cols] = shape as [number, number];
    const n = indices.length;
    if (values.length !== n) throw new Error('sparse indices and values differ in length');
    const colPtr = sharedInt32(cols + 1);
    for (let e = 0; e < n; e++) colPtr[(indices[e]! % cols) + 1]!++;
    for (let i = 0; i < cols; i++) colPtr[i + 1]! += colPtr[i]!;
    const fill = colPtr.slice(0, cols);
    const outIdx = sharedInt32(n);
    const vals = sharedFloat32(n);
    // Row-major input order: within one input channel the output rows come out increasing.
    for (let e = 0; e < n; e++) {
      const flat = indices[e]!;
      const col = flat % cols;
      const p = fill[col]!++;
      outIdx[p] = (flat - col) / cols;
      vals[p] = values[e]!;
    }
    return new SparseMatrix(rows, cols, colPtr, outIdx, vals);
  }

  /** From a dense row-major [rows, cols] array (zeros dropped). */
  static fromDense(shape: readonly number[], data: Float32Array): SparseMatrix {
    const idx: number[] = [];
    for (let i = 0; i < data.length; i++) if (data[i] !== 0) idx.push(i);
    const indices = Int32Array.from(idx);
    return SparseMatrix.fromCompact(shape, indices, Float32Array.from(idx, (i) => data[i]!));
  }

  /** Stored entries (explicit zeros included). */
  get nnz(): number {
    return this.vals.length;
  }

  /** Stored entries that are not zero. */
  countNonzero(): number {
    let n = 0;
    for (let p = 0; p < this.vals.length; p++) if (this.vals[p] !== 0) n++;
    return n;
  }

  /** Bytes of the three arrays. */
  get bytes(): number {
    return this.colPtr.byteLength + this.outIdx.byteLength + this.vals.byteLength;
  }

  /** y [m, rows] = x [m, cols] @ W^T. Zero entries of x cost nothing. */
  matmul(x: Float32Array, m: number): Float32Array {
    const { rows, cols, colPtr, outIdx, vals } = this;
    if (x.length !== m * cols) throw new Error(`sparse matmul: x has ${x.length} values, expected ${m}x${cols}`);
    const y = new Float32Array(m * rows);
    for (let t = 0; t < m; t++) {
      const xo = t * cols;
      const yo = t * rows;
      for (let i = 0; i < cols; i++) {
        const xv = x[xo + i]!;
        if (xv === 0) continue;
        const end = colPtr[i + 1]!;
        for (let p = colPtr[i]!; p < end; p++) y[yo + outIdx[p]!]! += xv * vals[p]!;
      }
    }
    return y;
  }

  /** dx [m, cols] = dy [m, rows] @ W (the gradient of matmul w.r.t. x). */
  matmulTransposed(dy: Float32Array, m: number): Float32Array {
    const { rows, cols, colPtr, outIdx, vals } = this;
    if (dy.length !== m * rows) throw new Error(`sparse matmul: dy has ${dy.length} values, expected ${m}x${rows}`);
    const dx = new Float32Array(m * cols);
    for (let t = 0; t < m; t++) {
      const yo = t * rows;
      const xo = t * cols;
      for (let i = 0; i < cols; i++) {
        let s = 0;
        const end = colPtr[i + 1]!;
        for (let p = colPtr[i]!; p < end; p++) s += dy[yo + outIdx[p]!]! * vals[p]!;
        dx[xo + i] = s;
      }
    }
    return dx;
  }

  /** W[row, col] (0 where nothing is stored). */
  get(row: number, col: number): number {
    const p = this.find(row, col);
    return p < 0 ? 0 : this.vals[p]!;
  }

  /** A copy with W[row, col] set to 0 (the entry stays stored); the structure arrays are shared. */
  withZeroed(entries: readonly (readonly [number, number])[]): SparseMatrix {
    const vals = sharedCopy(this.vals);
    for (const [r, c] of entries) {
      const p = this.find(r, c);
      if (p >= 0) vals[p] = 0;
    }
    return new SparseMatrix(this.rows, this.cols, this.colPtr, this.outIdx, vals);
  }

  /** Rows [start, start + count) of W as a matrix of their own (the q, k or v block of c_attn). */
  rowBlock(start: number, count: number): SparseMatrix {
    if (!(start >= 0 && count >= 0 && start + count <= this.rows)) throw new Error(`rows [${start}, ${start + count}) outside [0, ${this.rows})`);
    const colPtr = sharedInt32(this.cols + 1);
    const keep: number[] = [];
    for (let i = 0; i < this.cols; i++) {
      for (let p = this.colPtr[i]!; p < this.colPtr[i + 1]!; p++) {
        const r = this.outIdx[p]!;
        if (r >= start && r < start + count) keep.push(p);
      }
      colPtr[i + 1] = keep.length;
    }
    const outIdx = sharedInt32(keep.length);
    const vals = sharedFloat32(keep.length);
    keep.forEach((p, q) => { outIdx[q] = this.outIdx[p]! - start; vals[q] = this.vals[p]!; });
    return new SparseMatrix(count, this.cols, colPtr, outIdx, vals);
  }

  /** The stored arrays as they are (CSR of W^T: one line per input channel, indices are output rows); shared, not copied. */
  byInput(): CompressedLines {
    return { ptr: this.colPtr, idx: this.outIdx, vals: this.vals };
  }

  /** CSR of W itself (one line per output row, indices are input channels, increasing): a new copy, for kernels that
   *  gather one output per thread (src/model/webgpuSparse.ts). */
  byOutput(): CompressedLines {
    const { rows, cols, colPtr, outIdx, vals } = this;
    const ptr = new Int32Array(rows + 1);
    for (let p = 0; p < outIdx.length; p++) ptr[outIdx[p]! + 1]!++;
    for (let r = 0; r < rows; r++) ptr[r + 1]! += ptr[r]!;
    const fill = ptr.slice(0, rows);
    const idx = new Int32Array(outIdx.length);
    const out = new Float32Array(outIdx.length);
    // Input channels in increasing order, so each row's entries come out sorted by column.
    for (let i = 0; i < cols; i++) {
      for (let p = colPtr[i]!; p < colPtr[i + 1]!; p++) {
        const q = fill[outIdx[p]!]!++;
        idx[q] = i;
        out[q] = vals[p]!;
      }
    }
    return { ptr, idx, vals: out };
  }

  /** Dense W^T, row-major [cols, rows] (the runtime's [in, out] orientation), for the densify-per-use kernel. */
  toDenseTransposed(): Float32Array {
    const out = new Float32Array(this.rows * this.cols);
    for (let i = 0; i < this.cols; i++) {
      const o = i * this.rows;
      for (let p = this.colPtr[i]!; p < this.colPtr[i + 1]!; p++) out[o + this.outIdx[p]!] = this.vals[p]!;
    }
    return out;
  }

  /** Dense row-major [rows, cols] copy (tests, small matrices). */
  toDense(): Float32Array {
    const out = new Float32Array(this.rows * this.cols);
    for (let i = 0; i < this.cols; i++) {
      for (let p = this.colPtr[i]!; p < this.colPtr[i + 1]!; p++) out[this.outIdx[p]! * this.cols + i] = this.vals[p]!;
    }
    return out;
  }

  private find(row: number, col: number): number {
    if (!(row >= 0 && row < this.rows && col >= 0 && col < this.cols)) throw new Error(`entry [${row},${col}] outside [${this.rows},${this.cols}]`);
    let lo = this.colPtr[col]!;
    let hi = this.colPtr[col + 1]! - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const r = this.outIdx[mid]!;
      if (r === row) return mid;
      if (r < row) lo = mid + 1;
      else hi = mid - 1;
    }
    return -1;
  }
}
