import type { Page } from '@playwright/test';
import { expect, test } from './fixtures/test';

/**
 * The WebGPU sparse kernel (src/model/webgpuSparse.ts: a WGSL program over a SparseMatrix's compressed arrays, kept on
 * the GPU) in real Chromium, on SwiftShader's WebGPU here (real WGSL, run on the CPU). Its products and gradients
 * against a float64 sparse matmul computed below, and a whole sparse-stored model on it against the float64 reference
 * forward and against the dense weights' gradient. Tolerance 1e-4 of each quantity's largest magnitude (float32 sums
 * of at most ~130 terms); the entries no weight reaches must come out exactly zero.
 */

interface KernelCase {
  rows: number; cols: number; B: number; T: number;
  W: number[]; x: number[]; dy: number[]; bias: number[];
  block: { start: number; count: number };
  got: { y: number[]; dx: number[]; yBlock: number[]; dxBlock: number[] };
  kernels: string[];
  readSyncCalls: number;
  heldAfterFirst: number; heldAfterRepeat: number; heldAfterRelease: number;
}

interface ModelCase {
  backend: string;
  diffs: Record<string, number>;
  kernels: string[];
  readSyncCalls: number;
  leftAfterForward: number;
  leftAfterGradient: number;
  maskSite: string;
  gradScale: number;
  gradRelDiff: number;
}

type Checks = { webgpuSparseKernelCase: () => Promise<KernelCase>; webgpuSparseModelCase: () => Promise<ModelCase> };

async function harness(page: Page): Promise<void> {
  await page.goto('/harness.html');
  await expect(page.locator('#out')).toHaveText('ready');
}

/** y [m, rows(range)] = x [m, cols] @ W[range]^T + b[range], in float64. */
function forward64(k: KernelCase, start: number, count: number): Float64Array {
  const m = k.B * k.T;
  const y = new Float64Array(m * count);
  for (let t = 0; t < m; t++) for (let o = 0; o < count; o++) {
    let s = k.bias[start + o]!;
    for (let c = 0; c < k.cols; c++) s += k.x[t * k.cols + c]! * k.W[(start + o) * k.cols + c]!;
    y[t * count + o] = s;
  }
  return y;
}

/** dx [m, cols] = dy [m, rows] @ W with dy's columns outside [start, start + count) zero, in float64. */
function gradient64(k: KernelCase, start: number, count: number): Float64Array {
  const m = k.B * k.T;
  const dx = new Float64Array(m * k.cols);
  for (let t = 0; t < m; t++) for (let c = 0; c < k.cols; c++) {
    let s = 0;
    for (let o = start; o < start + count; o++) s += k.dy[t * k.rows + o]! * k.W[o * k.cols + c]!;
    dx[t * k.cols + c] = s;
  }
  return dx;
}

/** max |got - want| / max |want|. */
function relDiff(got: number[], want: Float64Array): number {
  if (got.length !== want.length) return Number.NaN;
  let d = 0;
  let scale = 0;
  for (let i = 0; i < want.length; i++) {
    d = Math.max(d, Math.abs(got[i]! - want[i]!));
    scale = Math.max(scale, Math.abs(want[i]!));
  }
  return d / Math.max(scale, 1e-30);
}

test('the WebGPU CSR kernel and its gradient match a float64 sparse matmul on an awkward matrix', async ({ page }) => {
  await harness(page);
  const k = await page.evaluate(() => (window as unknown as { runtimeChecks: Checks }).runtimeChecks.webgpuSparseKernelCase());
  const { rows, cols, B, T, block } = k;
  const m = B * T;
  // Sizes off the 64-wide workgroup, and a matrix with empty rows and columns and fully dense rows.
  expect(rows % 64).not.toBe(0);
  expect(cols % 64).not.toBe(0);
  const rowCount = (r: number) => k.W.slice(r * cols, (r + 1) * cols).filter((v) => v !== 0).length;
  const counts = Array.from({ length: rows }, (_, r) => rowCount(r));
  expect(counts.filter((n) => n === 0).length).toBeGreaterThanOrEqual(3);
  expect(counts.filter((n) => n > 0.9 * cols).length).toBeGreaterThanOrEqual(2);
  const emptyCols = Array.from({ length: cols }, (_, c) => c).filter((c) => counts.every((_, r) => k.W[r * cols + c] === 0));
  expect(emptyCols.length).toBeGreaterThanOrEqual(2);

  expect(k.got.y).toHaveLength(m * rows);
  expect(k.got.dx).toHaveLength(m * cols);
  expect(k.got.yBlock).toHaveLength(m * block.count);
  expect(k.got.dxBlock).toHaveLength(m * cols);
  const diffs = {
    forward: relDiff(k.got.y, forward64(k, 0, rows)),
    gradient: relDiff(k.got.dx, gradient64(k, 0, rows)),
    'forward, row block': relDiff(k.got.yBlock, forward64(k, block.start, block.count)),
    'gradient, row block': relDiff(k.got.dxBlock, gradient64(k, block.start, block.count)),
  };
  test.info().annotations.push({ type: 'max |diff| / max |float64|', description: JSON.stringify(diffs) });
  for (const [what, d] of Object.entries(diffs)) expect(d, what).toBeLessThanOrEqual(1e-4);
  // Empty rows give exactly the bias; empty columns get exactly no gradient.
  for (let t = 0; t < m; t++) {
    counts.forEach((n, r) => n === 0 && expect(k.got.y[t * rows + r]).toBe(Math.fround(k.bias[r]!)));
    for (const c of emptyCols) expect(k.got.dx[t * cols + c]).toBe(0);
  }

  // It ran as the registered WebGPU kernel, with no synchronous read-back; the weights' GPU copies (by row and by
  // column, whole and the block) were made once, reused, and freed on release.
  expect(k.kernels).toContain('SparseLineGather');
  expect(k.readSyncCalls).toBe(0);
  expect(k.heldAfterFirst).toBe(4 * 3);
  expect(k.heldAfterRepeat).toBe(k.heldAfterFirst);
  expect(k.heldAfterRelease).toBe(0);
});

test('a sparse-stored model on WebGPU matches the float64 reference, and its gradient the dense weights\'', async ({ page }) => {
  await harness(page);
  const r = await page.evaluate(() => (window as unknown as { runtimeChecks: Checks }).runtimeChecks.webgpuSparseModelCase());
  expect(r.backend).toBe('webgpu');
  expect(r.kernels).toContain('SparseLineGather');
  expect(r.readSyncCalls).toBe(0);
  expect(Object.keys(r.diffs)).toContain('logits');
  const off = Object.entries(r.diffs).filter(([, d]) => !(d <= 1e-4)).map(([w, d]) => `${w}: ${d}`);
  expect(off).toEqual([]);
  expect(r.gradScale).toBeGreaterThan(0);
  expect(r.gradRelDiff).toBeLessThanOrEqual(1e-4);
  // Disposing the models freed every GPU copy of their sparse weights.
  expect(r.leftAfterForward).toBe(0);
  expect(r.leftAfterGradient).toBe(0);
  test.info().annotations.push(
    { type: 'logits max |diff|', description: String(r.diffs.logits) },
    { type: `mask gradient at ${r.maskSite}, max |diff| / max |dense|`, description: r.gradRelDiff.toExponential(2) },
  );
});
