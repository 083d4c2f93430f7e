import { absTopKHost, absTopKRows } from './absTopKRows';
import { backwardPart, forwardPart, planCsr, type CsrPlan } from './csrKernel';
import { isShared, sharedFloat32, sharedUint8 } from './sharedArrays';
import type { CompressedLines, SparseMatrix } from './sparseMatrix';

/**
 * The 'csr' kernel on several threads, and host AbsTopK (absTopKRows.ts) on the same threads: a large model's forward
 * pass spends about as long choosing the top |x| of each row as in its sparse products, and rows are independent.
 * The forward pass is synchronous (sparseLinear is a TF.js op), so the caller blocks: it posts one part to each pool
 * worker, computes part 0 itself, then waits with Atomics.wait on a shared counter the workers raise as they finish.
 * x, y and the matrix's arrays are in shared memory (the matrix's were put
 * there at construction, sharedArrays.ts), so nothing big is copied. Parts write disjoint outputs and sum each in the
 * one-thread kernel's order (csrKernel.ts): the result is bit for bit that of SparseMatrix.matmul.
 *
 * Blocking needs a thread that may block (a worker, or Node): csrPoolSupport says where the pool can run at all.
 */

/** Where a job goes: a Web Worker or a Node worker_threads Worker (both have postMessage). */
export interface CsrPoolPort {
  postMessage(job: PoolJob): void;
}

export type PoolJob = CsrJob | TopKJob;

export interface CsrJob {
  op: 'forward' | 'backward';
  part: number;
  plan: CsrPlan;
  lines: CompressedLines;
  input: Float32Array;
  output: Float32Array;
  m: number;
  /** [finished parts, failed parts]. */
  done: Int32Array;
}

/** AbsTopK of rows [rowSplit[part], rowSplit[part + 1]) of input ([rows, width]) into values and mask. */
export interface TopKJob {
  op: 'topk';
  part: number;
  rowSplit: Int32Array;
  width: number;
  k: number;
  input: Float32Array;
  values: Float32Array;
  mask: Uint8Array;
  done: Int32Array;
}

/** What a pool worker does with a job (csrPool.worker.ts, and the Node worker of the tests). */
export function runCsrJob(job: PoolJob): void {
  try {
    if (job.op === 'topk') absTopKRows(job.input, job.width, job.k, job.rowSplit[job.part]!, job.rowSplit[job.part + 1]!, job.values, job.mask);
    else if (job.op === 'forward') forwardPart(job.plan, job.part, job.lines, job.input, job.m, job.output);
    else backwardPart(job.plan, job.part, job.lines, job.input, job.m, job.output);
  } catch (e) {
    Atomics.add(job.done, 1, 1);
    throw e;
  } finally {
    Atomics.add(job.done, 0, 1);
    Atomics.notify(job.done, 0);
  }
}

export interface CsrPoolSupport {
  /** Threads the kernel may use (1: the one-thread kernel). */
  threads: number;
  /** Why not more, for the memory plan's status line (null when the pool runs). */
  reason: string | null;
}

/**
 * How many threads the 'csr' kernel gets: all the cores, where shared memory exists (a cross-origin isolated page, or
 * Node) and this thread may block (a worker: Atomics.wait is refused on a page's main thread).
 */
export function csrPoolSupport(env: { cores: number; crossOriginIsolated: boolean; sharedMemory: boolean; canBlock: boolean }): CsrPoolSupport {
  if (!env.crossOriginIsolated || !env.sharedMemory) return { threads: 1, reason: 'sparse kernel on one thread: the page is not cross-origin isolated, so it has no shared memory' };
  if (!env.canBlock) return { threads: 1, reason: 'sparse kernel on one thread: this thread may not block' };
  const cores = Number.isInteger(env.cores) && env.cores >= 1 ? env.cores : 1;
  return cores > 1 ? { threads: cores, reason: null } : { threads: 1, reason: 'sparse kernel on one thread: one core' };
}

/** This context's facts for csrPoolSupport. */
export function currentPoolEnv(cores: number) {
  const g = globalThis as { crossOriginIsolated?: boolean };
  let canBlock = false;
  if (typeof SharedArrayBuffer === 'function') {
    try {
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 1, 0); // 'not-equal' where blocking is allowed; throws where not
      canBlock = true;
    } catch {
      canBlock = false;
    }
  }
  return { cores, crossOriginIsolated: g.crossOriginIsolated !== false, sharedMemory: typeof SharedArrayBuffer === 'function', canBlock };
}

/** A generous bound on one matrix product; past it the pool is taken as broken and the caller's thread does the work. */
const WAIT_LIMIT_MS = 60_000;

/** Values below which AbsTopK stays on the caller's thread (about 0.2 ms of work there; see takesTopK). */
const MIN_POOLED_TOPK = 32_768;

export class CsrPool {
  /** Plans per structure (an edited copy of a matrix shares its structure arrays, hence its plans) and row range. */
  private readonly plans = new WeakMap<Int32Array, Map<string, CsrPlan>>();
  private readonly done = new Int32Array(new SharedArrayBuffer(8));
  private input = sharedFloat32(0);
  private output = sharedFloat32(0);
  private mask = sharedUint8(0);
  /** Set when a worker failed or never answered: from then on, one thread. */
  disabledReason: string | null = null;

  constructor(private readonly ports: readonly CsrPoolPort[]) {
    if (typeof SharedArrayBuffer !== 'function') throw new Error('the CSR pool needs SharedArrayBuffer (a cross-origin isolated page)');
  }

  /** Threads a product uses: the workers and the caller. */
  get size(): number {
    return this.ports.length + 1;
  }

  /** Whether this matrix can go through the pool (its arrays are in shared memory and the pool works). */
  accepts(W: SparseMatrix): boolean {
    const l = W.byInput();
    return this.disabledReason === null && this.ports.length > 0 && isShared(l.ptr) && isShared(l.idx) && isShared(l.vals);
  }

  /** y [m, rows.count] = x [m, cols] @ W[rows]^T; bit for bit SparseMatrix.matmul of the row block. */
  matmul(W: SparseMatrix, x: Float32Array, m: number, rows = { start: 0, count: W.rows }): Float32Array {
    if (x.length !== m * W.cols) throw new Error(`sparse matmul: x has ${x.length} values, expected ${m}x${W.cols}`);
    return this.run('forward', W, x, m, rows, m * rows.count);
  }

  /** dx [m, cols] = dy [m, rows.count] @ W[rows]; bit for bit SparseMatrix.matmulTransposed of the row block. */
  matmulTransposed(W: SparseMatrix, dy: Float32Array, m: number, rows = { start: 0, count: W.rows }): Float32Array {
    if (dy.length !== m * rows.count) throw new Error(`sparse matmul: dy has ${dy.length} values, expected ${m}x${rows.count}`);
    return this.run('backward', W, dy, m, rows, m * W.cols);
  }

  private plan(W: SparseMatrix, rows: { start: number; count: number }): CsrPlan {
    const lines = W.byInput();
    let byRange = this.plans.get(lines.idx);
    if (!byRange) this.plans.set(lines.idx, (byRange = new Map()));
    const key = `${rows.start}:${rows.count}:${this.size}`;
    let p = byRange.get(key);
    if (!p) byRange.set(key, (p = planCsr(lines, W.cols, rows.start, rows.count, this.size)));
    return p;
  }

  private run(op: CsrJob['op'], W: SparseMatrix, data: Float32Array, m: number, rows: { start: number; count: number }, outLength: number): Float32Array {
    const plan = this.plan(W, rows);
    const lines = W.byInput();
    if (this.input.length < data.length) this.input = sharedFloat32(data.length);
    if (this.output.length < outLength) this.output = sharedFloat32(outLength);
    const input = this.input.subarray(0, data.length);
    const output = this.output.subarray(0, outLength);
    input.set(data);
    this.dispatch((part) => ({ op, part, plan, lines, input, output, m, done: this.done }));
    // A plain copy: the shared scratch is reused by the next product, and TF.js may keep the array it is given.
    if (this.disabledReason === null) return output.slice();
    const S = rows.start === 0 && rows.count === W.rows ? W : W.rowBlock(rows.start, rows.count);
    return op === 'forward' ? S.matmul(data, m) : S.matmulTransposed(data, m);
  }

  /** Whether AbsTopK of `size` values in rows of `width` is worth the pool: each thread gets whole rows, and a job
   *  costs a message and a wake-up (tens of microseconds), so small inputs stay on the caller's thread. */
  takesTopK(size: number, width: number): boolean {
    return this.disabledReason === null && this.ports.length > 0 && size >= MIN_POOLED_TOPK && size / width >= this.size;
  }

  /** absTopKHost (absTopKRows.ts) of x's `width`-long rows, the rows shared among the threads; the same result. */
  absTopK(x: Float32Array, width: number, k: number): { values: Float32Array; mask: Uint8Array } {
    const rows = x.length / width;
    if (!Number.isInteger(rows)) throw new Error(`AbsTopK: ${x.length} values are not rows of ${width}`);
    if (this.input.length < x.length) this.input = sharedFloat32(x.length);
    if (this.output.length < x.length) this.output = sharedFloat32(x.length);
    if (this.mask.length < x.length) this.mask = sharedUint8(x.length);
    const input = this.input.subarray(0, x.length);
    const values = this.output.subarray(0, x.length);
    const mask = this.mask.subarray(0, x.length);
    input.set(x);
    const rowSplit = Int32Array.from({ length: this.size + 1 }, (_, p) => Math.round((rows * p) / this.size));
    this.dispatch((part) => ({ op: 'topk', part, rowSplit, width, k, input, values, mask, done: this.done }));
    if (this.disabledReason === null) return { values: values.slice(), mask: mask.slice() };
    return absTopKHost(x, width, k);
  }

  /**
   * Posts part p's job to worker p - 1, runs part 0 here, then blocks until every worker has raised the counter. A
   * worker that fails or never answers disables the pool (disabledReason); the caller then redoes the work alone.
   */
  private dispatch(jobOf: (part: number) => PoolJob): void {
    Atomics.store(this.done, 0, 0);
    Atomics.store(this.done, 1, 0);
    this.ports.forEach((port, i) => port.postMessage(jobOf(i + 1)));
    // Part 0 raises the counter too (runCsrJob does), so the wait below counts every part. Should it throw, the
    // workers still write into the shared scratch: the error waits for them before it goes up.
    let ownError: unknown = null;
    try {
      runCsrJob(jobOf(0));
    } catch (e) {
      ownError = e;
    }
    const workers = this.ports.length;
    const t0 = Date.now();
    for (let n = Atomics.load(this.done, 0); n < workers + 1; n = Atomics.load(this.done, 0)) {
      if (Atomics.wait(this.done, 0, n, WAIT_LIMIT_MS) === 'timed-out' && Date.now() - t0 >= WAIT_LIMIT_MS) {
        this.disabledReason = `a CSR pool worker did not answer within ${WAIT_LIMIT_MS / 1000} s`;
        break;
      }
    }
    if (ownError !== null) throw ownError;
    if (Atomics.load(this.done, 1) > 0) this.disabledReason = 'a CSR pool worker failed';
  }
}

/** The pool the 'csr' kernel uses (null: one thread). Set by whoever can start workers (the engine worker). */
let active: CsrPool | null = null;

export function setCsrPool(pool: CsrPool | null): void {
  active = pool;
}

export function activeCsrPool(): CsrPool | null {
  return active;
}
