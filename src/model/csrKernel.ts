import type { CompressedLines } from './sparseMatrix';
import { sharedInt32 } from './sharedArrays';

/**
 * The 'csr' kernel cut into parts that run side by side (csrPool.ts), each writing outputs no other part writes, and
 * each output summed in exactly the order of the one-thread kernel (SparseMatrix.matmul / matmulTransposed), so the
 * result is bit for bit the same whatever the number of parts.
 *
 * The matrix is CSR of W^T (one line per input channel i, its output rows increasing). Forward, y = x @ W^T: part k owns
 * the output rows [rowSplit[k], rowSplit[k+1]) and, in each line i, visits only the entries cut[k][i]..cut[k+1][i]
 * that fall in its rows (contiguous, the rows being sorted); y[t, o] still adds x[t, i] * W[o, i] over i in increasing
 * order. Gradient, dx = dy @ W: part k owns the input channels [colSplit[k], colSplit[k+1]) and sums each line whole.
 * Both splits balance stored entries, not rows: a few dense rows must not all land in one part.
 */
export interface CsrPlan {
  parts: number;
  /** The output rows of W taken (the q, k or v block of c_attn, or all of them). */
  rowStart: number;
  rowCount: number;
  cols: number;
  /** [parts + 1], relative to rowStart. */
  rowSplit: Int32Array;
  /** [parts + 1] input channels. */
  colSplit: Int32Array;
  /** [(parts + 1) * cols]: cut[k * cols + i] is the first entry of line i at or after part k's first row. */
  cut: Int32Array;
}

/** Boundaries [parts + 1] cutting `weights` into `parts` runs of about equal sums (a run may be empty). */
export function balancedSplit(weights: ArrayLike<number>, parts: number): Int32Array {
  if (!(Number.isInteger(parts) && parts >= 1)) throw new Error(`parts must be a positive whole number (got ${parts})`);
  const n = weights.length;
  let total = 0;
  for (let i = 0; i < n; i++) total += weights[i]!;
  const split = new Int32Array(parts + 1);
  let acc = 0;
  let i = 0;
  for (let k = 1; k < parts; k++) {
    const target = (total * k) / parts;
    // Take items while that brings the sum nearer the target than stopping would.
    while (i < n && Math.abs(acc + weights[i]! - target) <= Math.abs(acc - target)) acc += weights[i++]!;
    split[k] = i;
  }
  split[parts] = n;
  return split;
}

/** The parts of W's rows [rowStart, rowStart + rowCount) for `parts` workers; arrays in shared memory. */
export function planCsr(lines: CompressedLines, cols: number, rowStart: number, rowCount: number, parts: number): CsrPlan {
  const { ptr, idx } = lines;
  const rowEnd = rowStart + rowCount;
  const rowNnz = new Int32Array(rowCount);
  for (let p = 0; p < idx.length; p++) {
    const r = idx[p]!;
    if (r >= rowStart && r < rowEnd) rowNnz[r - rowStart]!++;
  }
  const rowSplit = balancedSplit(rowNnz, parts);
  const cut = sharedInt32((parts + 1) * cols);
  const colNnz = new Int32Array(cols);
  for (let i = 0; i < cols; i++) {
    let p = ptr[i]!;
    const end = ptr[i + 1]!;
    for (let k = 0; k <= parts; k++) {
      const first = k === parts ? rowEnd : rowStart + rowSplit[k]!;
      while (p < end && idx[p]! < first) p++;
      cut[k * cols + i] = p;
    }
    colNnz[i] = cut[parts * cols + i]! - cut[i]!;
  }
  return { parts, rowStart, rowCount, cols, rowSplit, colSplit: balancedSplit(colNnz, parts), cut };
}

/** Part k of y [m, rowCount] = x [m, cols] @ W[rows]^T: writes y's columns rowSplit[k]..rowSplit[k+1] of every row. */
export function forwardPart(plan: CsrPlan, k: number, lines: CompressedLines, x: Float32Array, m: number, y: Float32Array): void {
  const { cols, rowCount: out, rowStart, rowSplit, cut } = plan;
  const { idx, vals } = lines;
  const lo = rowSplit[k]!;
  const hi = rowSplit[k + 1]!;
  if (lo === hi) return;
  for (let t = 0; t < m; t++) y.fill(0, t * out + lo, t * out + hi);
  const a = k * cols;
  const b = (k + 1) * cols;
  for (let t = 0; t < m; t++) {
    const xo = t * cols;
    const yo = t * out - rowStart;
    for (let i = 0; i < cols; i++) {
      const xv = x[xo + i]!;
      if (xv === 0) continue;
      const end = cut[b + i]!;
      for (let p = cut[a + i]!; p < end; p++) y[yo + idx[p]!]! += xv * vals[p]!;
    }
  }
}

/** Part k of dx [m, cols] = dy [m, rowCount] @ W[rows]: writes dx's columns colSplit[k]..colSplit[k+1] of every row. */
export function backwardPart(plan: CsrPlan, k: number, lines: CompressedLines, dy: Float32Array, m: number, dx: Float32Array): void {
  const { cols, rowCount: out, rowStart, colSplit, cut, parts } = plan;
  const { idx, vals } = lines;
  const lo = colSplit[k]!;
  const hi = colSplit[k + 1]!;
  const last = parts * cols;
  for (let t = 0; t < m; t++) {
    const yo = t * out - rowStart;
    const xo = t * cols;
    for (let i = lo; i < hi; i++) {
      let s = 0;
      const end = cut[last + i]!;
      for (let p = cut[i]!; p < end; p++) s += dy[yo + idx[p]!]! * vals[p]!;
      dx[xo + i] = s;
    }
  }
}
