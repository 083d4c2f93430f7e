import { describe, expect, it } from 'vitest';
import { SparseMatrix } from './sparseMatrix';
import { mulberry32 } from '../tasks/seeded';

/** A random [rows, cols] matrix with the given fraction of nonzeros, dense row-major. */
function randomDense(rows: number, cols: number, density: number, seed: number): Float32Array {
  const u = mulberry32(seed);
  return Float32Array.from({ length: rows * cols }, () => (u() < density ? u() * 2 - 1 : 0));
}

/** float64 reference: x [m, cols] @ W^T with W dense [rows, cols]. */
function denseMatmul(x: Float32Array, m: number, W: Float32Array, rows: number, cols: number): Float64Array {
  const y = new Float64Array(m * rows);
  for (let t = 0; t < m; t++) for (let o = 0; o < rows; o++) {
    let s = 0;
    for (let i = 0; i < cols; i++) s += x[t * cols + i]! * W[o * cols + i]!;
    y[t * rows + o] = s;
  }
  return y;
}

function maxRelErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let err = 0;
  let scale = 0;
  for (let i = 0; i < a.length; i++) {
    err = Math.max(err, Math.abs(a[i]! - b[i]!));
    scale = Math.max(scale, Math.abs(b[i]!));
  }
  return err / Math.max(scale, 1e-30);
}

/** Compact encoding (docs/model-folder.md) of a dense matrix. */
function compact(W: Float32Array): { indices: Int32Array; values: Float32Array } {
  const idx: number[] = [];
  W.forEach((v, i) => v !== 0 && idx.push(i));
  return { indices: Int32Array.from(idx), values: Float32Array.from(idx, (i) => W[i]!) };
}

describe('SparseMatrix', () => {
  const cases: [number, number, number, number, number][] = [
    // rows, cols, weight density, activation density, m
    [7, 5, 0.4, 1, 3],
    [64, 48, 1 / 16, 0.125, 9],
    [130, 257, 1 / 128, 0.5, 4],
    [33, 40, 0, 1, 2], // no nonzeros at all
    [16, 16, 1, 1, 5], // fully dense
  ];
  it.each(cases)('matmul and its transpose match the dense float64 product (%ix%i, density %f)', (rows, cols, wd, xd, m) => {
    const W = randomDense(rows, cols, wd, rows * 31 + cols);
    const { indices, values } = compact(W);
    const S = SparseMatrix.fromCompact([rows, cols], indices, values);
    expect(S.nnz).toBe(indices.length);
    expect([...S.toDense()]).toEqual([...W]);
    const x = randomDense(m, cols, xd, 5);
    const y = S.matmul(x, m);
    expect(y.length).toBe(m * rows);
    expect(maxRelErr(y, denseMatmul(x, m, W, rows, cols))).toBeLessThan(1e-6);
    // dx = dy @ W: the dense product with W^T as the weight.
    const dy = randomDense(m, rows, 1, 6);
    const Wt = new Float32Array(rows * cols);
    for (let o = 0; o < rows; o++) for (let i = 0; i < cols; i++) Wt[i * rows + o] = W[o * cols + i]!;
    expect(maxRelErr(S.matmulTransposed(dy, m), denseMatmul(dy, m, Wt, cols, rows))).toBeLessThan(1e-6);
    expect([...S.toDenseTransposed()]).toEqual([...Wt]);
  });

  it('fromDense drops zeros and agrees with fromCompact', () => {
    const W = randomDense(20, 30, 0.1, 2);
    const a = SparseMatrix.fromDense([20, 30], W);
    const { indices, values } = compact(W);
    expect(a.nnz).toBe(indices.length);
    const x = randomDense(3, 30, 1, 9);
    expect([...a.matmul(x, 3)]).toEqual([...SparseMatrix.fromCompact([20, 30], indices, values).matmul(x, 3)]);
  });

  it('get and withZeroed address single entries without touching the original', () => {
    const W = randomDense(12, 9, 0.3, 4);
    const S = SparseMatrix.fromDense([12, 9], W);
    const nz = [...W.keys()].filter((i) => W[i] !== 0);
    const zero = [...W.keys()].find((i) => W[i] === 0)!;
    for (const i of nz) expect(S.get(Math.floor(i / 9), i % 9)).toBe(W[i]);
    expect(S.get(Math.floor(zero / 9), zero % 9)).toBe(0);
    const [r, c] = [Math.floor(nz[3]! / 9), nz[3]! % 9];
    const E = S.withZeroed([[r, c], [Math.floor(zero / 9), zero % 9]]);
    expect(E.get(r, c)).toBe(0);
    expect(S.get(r, c)).toBe(W[nz[3]!]);
    const want = W.slice();
    want[nz[3]!] = 0;
    expect([...E.toDense()]).toEqual([...want]);
    expect(() => S.get(12, 0)).toThrow(/outside/);
  });

  it('refuses mismatched inputs', () => {
    const S = SparseMatrix.fromDense([4, 3], new Float32Array(12).fill(1));
    expect(() => S.matmul(new Float32Array(7), 2)).toThrow(/expected 2x3/);
    expect(() => S.matmulTransposed(new Float32Array(7), 2)).toThrow(/expected 2x4/);
    expect(() => SparseMatrix.fromCompact([12], new Int32Array(0), new Float32Array(0))).toThrow(/2-D/);
  });

  it('counts its bytes', () => {
    const S = SparseMatrix.fromDense([10, 20], randomDense(10, 20, 0.25, 3));
    expect(S.bytes).toBe((20 + 1) * 4 + S.nnz * 8);
  });

  it('cuts a block of rows that multiplies like those rows of the whole', () => {
    const W = randomDense(12, 9, 0.3, 4);
    const S = SparseMatrix.fromDense([12, 9], W);
    const B = S.rowBlock(4, 4);
    expect([B.rows, B.cols]).toEqual([4, 9]);
    expect([...B.toDense()]).toEqual([...W.slice(4 * 9, 8 * 9)]);
    const x = randomDense(3, 9, 0.6, 5);
    const whole = S.matmul(x, 3);
    const part = B.matmul(x, 3);
    for (let t = 0; t < 3; t++) expect([...part.subarray(t * 4, t * 4 + 4)]).toEqual([...whole.subarray(t * 12 + 4, t * 12 + 8)]);
    expect(() => S.rowBlock(10, 3)).toThrow(/outside/);
  });

  it('gives its entries by input channel (as stored) and by output row (sorted by column), both expanding to W', () => {
    const W = randomDense(13, 11, 0.3, 8);
    for (const c of [0, 5, 9]) W[2 * 11 + c] = 0; // some entries of row 2 gone, and all of rows 6 and 7
    W.fill(0, 6 * 11, 8 * 11);
    const S = SparseMatrix.fromDense([13, 11], W);
    const expand = ({ ptr, idx, vals }: { ptr: Int32Array; idx: Int32Array; vals: Float32Array }, lines: number, width: number) => {
      const out = new Float32Array(lines * width);
      expect(ptr.length).toBe(lines + 1);
      expect(ptr[lines]).toBe(S.nnz);
      for (let l = 0; l < lines; l++) {
        for (let p = ptr[l]!; p < ptr[l + 1]!; p++) {
          if (p > ptr[l]!) expect(idx[p]!).toBeGreaterThan(idx[p - 1]!);
          out[l * width + idx[p]!] = vals[p]!;
        }
      }
      return out;
    };
    expect([...expand(S.byOutput(), 13, 11)]).toEqual([...W]);
    expect([...expand(S.byInput(), 11, 13)]).toEqual([...S.toDenseTransposed()]);
    const rows = S.byOutput().ptr;
    expect([rows[6], rows[7]]).toEqual([rows[8], rows[8]]);
  });
});
