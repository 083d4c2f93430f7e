import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mulberry32 } from '../tasks/seeded';
import { absTopK } from './absTopK';
import { absTopKHost } from './absTopKRows';
import { balancedSplit, planCsr } from './csrKernel';
import { csrPoolSupport, setCsrPool, type CsrPool } from './csrPool';
import { isShared } from './sharedArrays';
import { SparseMatrix } from './sparseMatrix';
import { sparseLinear } from './sparseLinear';
import { nodeCsrPool } from './testing/nodeCsrPool';
import { useBackend } from './testing/nodeBackends';
import { tf } from './tfjs';

/**
 * A random [rows, cols] matrix of the given density with some rows empty and some rows full (the pool balances stored
 * entries: a dense row must not break it, an empty one must still be written as zeros).
 */
function awkwardMatrix(rows: number, cols: number, density: number, seed: number): SparseMatrix {
  const u = mulberry32(seed);
  const W = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    const kind = u();
    for (let c = 0; c < cols; c++) {
      const on = kind < 0.15 ? false : kind > 0.9 ? true : u() < density;
      if (on) W[r * cols + c] = u() * 2 - 1;
    }
  }
  return SparseMatrix.fromDense([rows, cols], W);
}

/** Activations as AbsTopK leaves them: mostly zero, some rows all zero. */
function activations(m: number, n: number, seed: number): Float32Array {
  const u = mulberry32(seed);
  const zeroRow = (t: number) => t % 5 === 3;
  return Float32Array.from({ length: m * n }, (_, j) => (!zeroRow(Math.floor(j / n)) && u() < 0.3 ? u() * 4 - 2 : 0));
}

const bits = (a: Float32Array) => Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));

describe('balancedSplit', () => {
  it('cuts into runs of nearly equal sums that cover everything in order', () => {
    expect([...balancedSplit([5, 1, 1, 1, 1, 1], 2)]).toEqual([0, 1, 6]);
    expect([...balancedSplit([1, 1, 1, 1, 1, 1], 3)]).toEqual([0, 2, 4, 6]);
    expect([...balancedSplit([0, 0, 9, 0], 3)]).toEqual([0, 2, 4, 4]);
    expect([...balancedSplit([], 4)]).toEqual([0, 0, 0, 0, 0]);
    expect(() => balancedSplit([1], 0)).toThrow(/positive whole number/);
  });

  it('balances stored entries, not rows', () => {
    const W = awkwardMatrix(101, 67, 0.05, 3);
    const plan = planCsr(W.byInput(), W.cols, 0, W.rows, 4);
    const dense = W.toDense();
    const perPart = [0, 1, 2, 3].map((k) => {
      let n = 0;
      for (let r = plan.rowSplit[k]!; r < plan.rowSplit[k + 1]!; r++) for (let c = 0; c < W.cols; c++) if (dense[r * W.cols + c] !== 0) n++;
      return n;
    });
    const largestRow = Math.max(...Array.from({ length: W.rows }, (_, r) => dense.subarray(r * W.cols, (r + 1) * W.cols).filter((v) => v !== 0).length));
    // Each part is within one row of an equal share.
    for (const n of perPart) expect(Math.abs(n - W.nnz / 4)).toBeLessThanOrEqual(largestRow);
  });
});

describe('CSR worker pool (worker_threads): sparse products and AbsTopK', () => {
  let pool: CsrPool;
  let close: () => Promise<void>;
  beforeAll(async () => {
    ({ pool, close } = await nodeCsrPool(3));
    await useBackend('cpu');
  }, 60_000);
  afterAll(async () => {
    setCsrPool(null);
    await close();
  });

  it('keeps the sparse weights in shared memory, so the workers read them in place', () => {
    const l = awkwardMatrix(9, 7, 0.3, 1).byInput();
    expect([isShared(l.ptr), isShared(l.idx), isShared(l.vals)]).toEqual([true, true, true]);
    expect(pool.size).toBe(3);
  });

  const cases: [rows: number, cols: number, density: number, m: number][] = [
    [1, 1, 1, 1], [7, 3, 0.5, 1], [131, 97, 0.06, 13], [203, 517, 0.02, 64], [64, 2, 0.9, 5], [2, 300, 0.1, 3],
  ];
  it.each(cases)('forward and gradient of a %dx%d matrix (density %f, %d rows of x) equal the one-thread kernel bit for bit', (rows, cols, density, m) => {
    const W = awkwardMatrix(rows, cols, density, rows * 31 + cols);
    const x = activations(m, cols, rows + 7);
    const dy = activations(m, rows, cols + 11);
    expect(bits(pool.matmul(W, x, m))).toEqual(bits(W.matmul(x, m)));
    expect(bits(pool.matmulTransposed(W, dy, m))).toEqual(bits(W.matmulTransposed(dy, m)));
    // A row block (the q, k or v part of c_attn), without its copy.
    if (rows >= 3) {
      const start = Math.floor(rows / 3);
      const count = rows - 2 * start;
      const S = W.rowBlock(start, count);
      const dyS = activations(m, count, 5);
      expect(bits(pool.matmul(W, x, m, { start, count }))).toEqual(bits(S.matmul(x, m)));
      expect(bits(pool.matmulTransposed(W, dyS, m, { start, count }))).toEqual(bits(S.matmulTransposed(dyS, m)));
    }
    expect(pool.disabledReason).toBeNull();
  });

  it('takes an edited copy (shared structure, new values) as its own matrix', () => {
    const W = awkwardMatrix(50, 40, 0.2, 9);
    const x = activations(6, 40, 2);
    const before = pool.matmul(W, x, 6);
    const E = W.withZeroed([[3, 5], [10, 0], [49, 39]]);
    expect(pool.accepts(E)).toBe(true);
    expect(bits(pool.matmul(E, x, 6))).toEqual(bits(E.matmul(x, 6)));
    expect(bits(pool.matmul(W, x, 6))).toEqual(bits(before));
  });

  it('refuses inputs of the wrong size with a clear message', () => {
    const W = awkwardMatrix(5, 4, 0.5, 2);
    expect(() => pool.matmul(W, new Float32Array(7), 2)).toThrow(/x has 7 values, expected 2x4/);
    expect(() => pool.matmulTransposed(W, new Float32Array(3), 2)).toThrow(/dy has 3 values, expected 2x5/);
  });

  it('gives sparseLinear, forward and gradient, the same values through the pool as without it', () => {
    const W = awkwardMatrix(48, 37, 0.1, 4);
    const B = 2;
    const T = 5;
    const xv = activations(B * T, 37, 8);
    const dyv = activations(B * T, 16, 9);
    const block = { start: 16, count: 16 };
    const run = () => tf.tidy(() => {
      const x = tf.tensor3d(xv, [B, T, 37]);
      const bias = tf.tensor1d(Float32Array.from({ length: 16 }, (_, i) => i / 7 - 1));
      const dy = tf.tensor3d(dyv, [B, T, 16]);
      const y = sparseLinear(x, W, bias, 'csr', block);
      const dx = tf.grad((v: tf.Tensor) => sparseLinear(v as tf.Tensor3D, W, bias, 'csr', block))(x, dy);
      const yAll = sparseLinear(x, W, undefined, 'csr');
      return [y, dx, yAll].map((t) => t.dataSync() as Float32Array);
    });
    setCsrPool(null);
    const alone = run();
    setCsrPool(pool);
    const pooled = run();
    setCsrPool(null);
    pooled.forEach((p, i) => expect(bits(p)).toEqual(bits(alone[i]!)));
  });

  describe('AbsTopK', () => {
    /** Rows with ties at the threshold, -0, NaN and all-zero rows: every case the selection must agree on. */
    function awkwardRows(rows: number, width: number, seed: number): Float32Array {
      const u = mulberry32(seed);
      return Float32Array.from({ length: rows * width }, (_, j) => {
        const r = Math.floor(j / width);
        if (r % 7 === 2) return 0;
        const v = u();
        if (v < 0.02) return NaN;
        if (v < 0.05) return -0;
        if (v < 0.3) return (r % 2 ? 1 : -1) * 0.5; // many equal magnitudes
        return u() * 4 - 2;
      });
    }

    it.each([[1, 5, 2], [3, 8, 3], [13, 64, 8], [100, 2048, 256], [640, 128, 16]])('%d rows of %d, k %d: values and mask equal the one-thread selection bit for bit', (rows, width, k) => {
      const x = awkwardRows(rows, width, rows * 13 + width);
      const want = absTopKHost(x, width, k);
      const got = pool.absTopK(x, width, k);
      expect(bits(got.values)).toEqual(bits(want.values));
      expect(Array.from(got.mask)).toEqual(Array.from(want.mask));
      expect(pool.disabledReason).toBeNull();
    });

    it('takes only inputs large enough to pay for the messages, with at least a row per thread', () => {
      expect(pool.takesTopK(64 * 2048, 2048)).toBe(true);
      expect(pool.takesTopK(100, 10)).toBe(false);
      expect(pool.takesTopK(2 * 40_000, 40_000)).toBe(false);
    });

    it('refuses an input that is not whole rows', () => {
      expect(() => pool.absTopK(new Float32Array(10), 4, 2)).toThrow(/10 values are not rows of 4/);
    });

    it('gives the absTopK op, value and gradient, the same through the pool as without it', () => {
      const x = awkwardRows(64, 1024, 5).map((v) => (Number.isNaN(v) ? 0.25 : v));
      const dyv = awkwardRows(64, 1024, 6).map((v) => (Number.isNaN(v) ? 1 : v));
      const run = () => tf.tidy(() => {
        const t = tf.tensor3d(x, [1, 64, 1024]);
        const dy = tf.tensor3d(dyv, [1, 64, 1024]);
        const y = absTopK(t, 128);
        const dx = tf.grad((v: tf.Tensor) => absTopK(v as tf.Tensor3D, 128))(t, dy);
        return [y, dx].map((r) => r.dataSync() as Float32Array);
      });
      setCsrPool(null);
      const alone = run();
      setCsrPool(pool);
      expect(pool.takesTopK(x.length, 1024)).toBe(true);
      const pooled = run();
      setCsrPool(null);
      pooled.forEach((p, i) => expect(bits(p)).toEqual(bits(alone[i]!)));
    });
  });
});

describe('csrPoolSupport', () => {
  const isolated = { cores: 8, crossOriginIsolated: true, sharedMemory: true, canBlock: true };
  it('uses every core where memory is shared and the thread may block', () => {
    expect(csrPoolSupport(isolated)).toEqual({ threads: 8, reason: null });
  });
  it('falls back to one thread, and says why, elsewhere', () => {
    expect(csrPoolSupport({ ...isolated, crossOriginIsolated: false, sharedMemory: false })).toEqual({ threads: 1, reason: expect.stringMatching(/not cross-origin isolated/) });
    expect(csrPoolSupport({ ...isolated, canBlock: false })).toEqual({ threads: 1, reason: expect.stringMatching(/may not block/) });
    expect(csrPoolSupport({ ...isolated, cores: 1 })).toEqual({ threads: 1, reason: expect.stringMatching(/one core/) });
    expect(csrPoolSupport({ ...isolated, cores: Number.NaN })).toEqual({ threads: 1, reason: expect.stringMatching(/one core/) });
  });
});
