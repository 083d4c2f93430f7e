import { backwardPart, forwardPart, planCsr, type CsrPlan } from './csrKernel';
import { isShared, sharedFloat32 } from './sharedArrays';
import type { CompressedLines, SparseMatrix } from './sparseMatrix';

/**
 * The 'csr' kernel on several threads. The forward pass is synchronous (sparseLinear is a TF.js op), so the caller
 * blocks: it posts one part to each pool worker, computes part 0 itself, then waits with Atomics.wait on a shared
 * counter the workers raise as they finish. x, y and the matrix's arrays are in shared memory (the matrix's were put
 * there at construction, sharedArrays.ts), so nothing big is copied. Parts write disjoint outputs and sum each in the
 * one-thread kernel's order (csrKernel.ts): the result is bit for bit that of SparseMatrix.matmul.
 *
 * Blocking needs a thread that may block (a worker, or Node): csrPoolSupport says where the pool can run at all.
 */

/** Where a job goes: a Web Worker or a Node worker_threads Worker (both have postMessage). */
export interface CsrPoolPort {
  postMessage(job: CsrJob): void;
}

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

/** What a pool worker does with a job (csrPool.worker.ts, and the Node worker of the tests). */
export function runCsrJob(job: CsrJob): void {
  try {
    if (job.op === 'forward') forwardPart(job.plan, job.part, job.lines, job.input, job.m, job.output);
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

export class CsrPool {
  /** Plans per structure (an edited copy of a matrix shares its structure arrays, hence its plans) and row range. */
  private readonly plans = new WeakMap<Int32Array, Map<string, CsrPlan>>();
  private readonly done = new Int32Array(new SharedArrayBuffer(8));
  private input = sharedFloat32(0);
  private output = sharedFloat32(0);
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
    Atomics.store(this.done, 0, 0);
    Atomics.store(this.done, 1, 0);
    this.ports.forEach((port, i) => port.postMessage({ op, part: i + 1, plan, lines, input, output, m, done: this.done }));
    if (op === 'forward') forwardPart(plan, 0, lines, input, m, output);
    else backwardPart(plan, 0, lines, input, m, output);
    const workers = this.ports.length;
    const t0 = Date.now();
    for (let n = Atomics.load(this.done, 0); n < workers; n = Atomics.load(this.done, 0)) {
      if (Atomics.wait(this.done, 0, n, WAIT_LIMIT_MS) === 'timed-out' && Date.now() - t0 >= WAIT_LIMIT_MS) {
        this.disabledReason = `a CSR pool worker did not answer within ${WAIT_LIMIT_MS / 1000} s`;
        break;
      }
    }
    if (Atomics.load(this.done, 1) > 0) this.disabledReason = 'a CSR pool worker failed';
    // A plain copy: the shared scratch is reused by the next product, and TF.js may keep the array it is given.
    if (this.disabledReason === null) return output.slice();
    const S = rows.start === 0 && rows.count === W.rows ? W : W.rowBlock(rows.start, rows.count);
    return op === 'forward' ? S.matmul(data, m) : S.matmulTransposed(data, m);
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
